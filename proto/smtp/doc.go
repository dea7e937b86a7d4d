// Package smtp is mailx's knowledge of SMTP: the session states and which
// commands each allows, the reply format and its parser, reply constructors
// with RFC 3463 enhanced status codes, and the explanations of every command,
// reply code and EHLO keyword.
//
// The server (server/smtp) enforces this table and the explorer (explore)
// explains it, so the two can never disagree. The relay client uses it too.
// This package does no network I/O, holds no server, and writes no terminal
// output: explanations are returned as note.Note values.
//
// RFCs: 5321 (SMTP), 3463 (enhanced status codes), 2034 (ENHANCEDSTATUSCODES),
// 1870 (SIZE), 6152 (8BITMIME), 2920 (PIPELINING), 3207 (STARTTLS), 4954 (AUTH),
// 6531 (SMTPUTF8), 3030 (CHUNKING/BDAT), 3461 (DSN), 8689 (REQUIRETLS).
package smtp
