// Package server is `mailx serve`: it wires the mail server's parts and is
// the one place that starts them. Config says what to run (domains, listen
// addresses, accounts, limits, relay settings); New prepares the data
// directory (TLS certificate, accounts, queue, log) and Start binds the
// listeners. Shutdown stops them gracefully.
//
// The wiring is explicit and lives in three places, so a reader finds every
// part from them:
//
//   - New lists the components in order, each in a file of its own: addSMTP
//     (SMTP on 2525, submission on 2587, SMTPS; mta.go), addAccess (POP3 and
//     IMAP from server/pop3 and server/imap; access_ext.go), addWeb (web mail,
//     server/web; mta_web.go), addRelay (remote delivery with server/relay,
//     retries and bounces, teaching scenarios; relay_ext.go), addSpam (DKIM
//     signing, SPF/DKIM/DMARC checks, blocklists, spam score; spam_ext.go).
//     A component keeps its state in a field of MTA, adds listeners with
//     AddService, may set QueueOptions before the queue opens, and registers
//     background work with OnShutdown.
//   - registerControlCalls (mta.go) lists every call of the control endpoint.
//   - sections (config_file.go) is the one table of config file keys.
//
// To add a component: write addX in its own file, call it from New in its
// place in the list, keep its state in an MTA field, and add its config keys
// to sections and ExampleConfig, its control call to registerControlCalls.
//
// The data directory:
//
//	DATA/mailx.conf          optional config file (the format is in config_file.go)
//	DATA/accounts            users and bcrypt hashes (server/accounts)
//	DATA/tls/cert.pem, key.pem   self-signed certificate made on first start
//	DATA/queue/              the durable queue (server/queue)
//	DATA/mail/<user>/        each user's Maildir (server/maildir)
//	DATA/transcripts/        one transcript file per session
//	DATA/log/mailx.log       structured log (log/slog, JSON)
//	DATA/control.json        the running server's control endpoint (server/control)
//
// The trace: every component reports the lines it reads and writes as
// transcript.Event values through one hook; MTA fans them out to
// Config.Trace (the --trace renderer in cmd) and to the transcript files. A
// session's file is written in the proto/transcript format that `mailx smtp
// replay` reads; it is complete once the component reports a Meta event
// starting with "closed", the convention every server here follows.
//
// Listeners bind loopback addresses only, unless Config.AllowPublic is set,
// because a practice server on a classroom network is something to choose,
// not to stumble into.
//
// What it is not: no protocol code lives here; no terminal output either
// (cmd prints the banner and the trace).
package server
