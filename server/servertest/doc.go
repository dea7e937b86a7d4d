// Package servertest starts what mailx's end-to-end tests talk to, in the
// test process: mailx serve's MTA with its Maildirs under t.TempDir() and
// every service on a free loopback port (Start), a trace recorder a test can
// wait on (Events), and headless Chromium for the web mail and report tests
// (Chromium).
//
// It is imported only by _test.go files of the packages allowed to import
// server: server's own subpackages (in external test packages, since
// servertest imports server), lessons and cmd. Helpers that need nothing from
// server (Eventually, golden files, free ports, tmpfs mounts) are in
// proto/testkit, which every package may import.
//
// Everything Start starts is stopped in t.Cleanup, and the cleanup waits for
// the shutdown to finish, so a test leaves no listener or goroutine behind.
package servertest
