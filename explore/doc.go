// Package explore is mailx's interactive, annotated protocol session engine:
// the thing behind `mailx smtp talk`, `mailx pop3 talk` and `mailx imap talk`.
//
// A session is three parts:
//
//   - a connection (conn.go): plain TCP, implicit TLS, or plain TCP upgraded in
//     place by STARTTLS/STLS, with the certificate's facts shown and
//     verification failures explained;
//   - a Protocol (protocol.go): how to read one complete response from the
//     wire, how to annotate what the client sends and what the server answers
//     given the session state, what the prompt shows, which words complete and
//     which meta-commands (\auth, \apop, \view ...) the protocol adds. The
//     knowledge itself (state tables, reply catalogues) lives in proto/; the
//     adapters here (smtp.go, pop3*.go, imap*.go) only connect it to the engine;
//   - a front end that supplies the student's lines (an Input): readline when
//     stdin is a terminal (repl.go), a script otherwise (one line sent after
//     the previous response has arrived), or a recorded transcript (replay.go).
//
// Raw lines are shown exactly as they went over the wire (without CRLF, with
// control characters made visible by render.Printable); explanations are
// separate note lines that --quiet drops. Every line is also reported as a
// transcript.Event through Options.Hook, which is how `--record` writes its
// file and how lessons observe and check each step.
//
// It is not a mail client library: it sends what the student types, mistakes
// included, because seeing the server's answer to a mistake is the lesson. The
// relay client in server/ does not use it.
//
// RFCs: 5321 (SMTP), 3207 (STARTTLS), 4954 (AUTH), 4616 (SASL PLAIN), 1939 and
// 2595 (POP3, STLS), 3501/9051 (IMAP), 8446 (TLS 1.3).
package explore
