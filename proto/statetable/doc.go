// Package statetable is the one shape of a protocol's command table, shared by
// proto/smtp, proto/pop3 and proto/imap: each verb, upper case, maps to a row
// that says in which session states the verb may be sent.
//
// The facts (verbs, syntax, states, RFC references, the hints a wrong state
// gets) stay in each protocol's package; this package only answers the
// questions every table is asked the same way: is this verb known, is it
// allowed in this state, how does a command line split into verb and
// argument, and what is a state's short name. The server enforces the answers
// and the explorer explains them, so the two can never disagree.
//
// It does no I/O and knows no protocol. RFCs: none of its own; the verb
// keywords are case-insensitive in all three protocols (RFC 5321 §2.4,
// RFC 1939 §3, RFC 3501 §9).
package statetable
