// Package imap is mailx's knowledge of IMAP4rev1 for the explorer: the
// session states and which commands each allows, a tag generator, the
// response reader ReadResponse, fed lines by the explorer's wire reader
// (untagged "*" lines, literals {n} read to the exact octet,
// "+" continuations and the tagged OK/NO/BAD completion), and the
// explanations of every command, response, response code and capability,
// including where IMAP differs from POP3.
//
// What it is not: an IMAP server or a client library. mailx's IMAP server
// (server/imap) is built on github.com/emersion/go-imap/v2; this package
// exists because the explorer must show and explain every line exactly as it
// travels, which a client library hides. It does no network I/O policy and
// writes no terminal output: explanations are note.Note values.
//
// RFCs: 3501 (IMAP4rev1), 9051 (IMAP4rev2), 2177 (IDLE), 6851 (MOVE),
// 2342 (NAMESPACE), 5161 (ENABLE), 7888 (LITERAL+ and LITERAL-), 4315
// (UIDPLUS), 3691 (UNSELECT), 5530 (response codes), 2595 and 9051 §6.2.1
// (STARTTLS), 4959 (SASL-IR), 6154 (SPECIAL-USE).
package imap
