// Package testkit holds the helpers mailx's tests share: waiting for a
// condition without sleeping a fixed time (Eventually, Poll, Recorder), a
// free loopback address (FreeAddr), golden files rewritten with -update
// (Golden), skipping a test whose third-party peer is not installed while
// naming its Debian package (NeedCommand), running client programs and
// third-party servers with time limits (Run, StartPeer), a scripted
// loopback connection with deadlines (Dial, Conn.Exchange), a server on
// 127.0.0.1:0 with a waited shutdown (Serve), and a small full disk
// (SmallDisk, FillDisk). docs/testkit.md shows them in use.
//
// It is imported only by _test.go files. It depends on nothing but the
// standard library and the testing package, and it sits under proto because
// every package of mailx may import proto (see STYLE.md, "Imports point one
// way"), so the tests of proto, explore, server, lessons and cmd can all use
// one copy. Helpers that need a running MTA live in server/servertest, which
// only server, lessons and cmd tests may import.
//
// Every helper fails or skips the test through its testing.TB; none of them
// returns an error the caller could forget to check, so a test built on them
// cannot pass by accident.
package testkit
