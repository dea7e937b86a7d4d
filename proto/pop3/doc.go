// Package pop3 is mailx's knowledge of the Post Office Protocol version 3:
// the session states (AUTHORIZATION, TRANSACTION, UPDATE) and which commands
// each allows, which responses are multi-line, the +OK/-ERR status line and
// its RFC 2449 response codes, byte-stuffing, the APOP digest, the response
// reader (ReadResponse) that keeps the raw wire lines, and the explanations of
// every command and response.
//
// The POP3 server (server/pop3) enforces this table and the explorer (explore)
// explains it, so the two can never disagree. This package does no network
// I/O policy, holds no server, and writes no terminal output: explanations are
// returned as note.Note values, and ReadResponse reads lines from the
// LineReader the caller hands it (the explorer's wire reader, explore.Wire,
// which bounds each line; the explorer's replays of recorded transcripts).
//
// What it is not: a mail store or a client library with retries. For writing
// a dot-stuffed message body on the server side, net/textproto's DotWriter
// does the job; this package's Stuff, Unstuff and EncodeBody exist because the
// explorer must show each line as it went over the wire.
//
// RFCs: 1939 (POP3), 2449 (CAPA and response codes), 2595 (STLS), 3206 (the
// SYS and AUTH response codes), 5034 (the SASL AUTH command), 6856 (UTF8).
package pop3
