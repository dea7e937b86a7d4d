// Package cmd is the mailx command line: it turns arguments into calls to
// explore (client sessions), server (mailx serve), lessons and proto, and
// their results into text or JSON through explore/render. The binary's main
// (cmd/mailx) is one line: os.Exit(cmd.Main(os.Args[1:], cmd.SystemIO())).
//
// What it is not: no protocol knowledge (that is proto), no session engine
// (explore), no server code (server). A command here parses flags, checks
// them, calls one of those packages and renders what comes back. Only this
// package imports cobra.
//
// # The command tree
//
// newRootCmd (root.go) lists every top-level command explicitly, one line
// each; a group command lists its subcommands in its constructor the same
// way. Each command lives in its own file:
//
//	mailx version                           version.go
//	mailx mx lookup                         mx.go
//	mailx smtp talk | send | replay         smtp.go, smtp_talk.go (--as: smtp_talk_as.go), smtp_send.go, smtp_replay.go
//	mailx pop3 talk | replay                pop3.go, pop3_session.go (shared with imap)
//	mailx imap talk | replay                imap.go, pop3_session.go
//	mailx queue list | show | delete        queue.go
//	mailx queue retry | hold | release | bounce   queue_actions.go
//	mailx serve                             serve.go: the command, its core flags, the banner
//	    POP3 and IMAP flags                 serve_access.go
//	    --web                               serve_web.go
//	    relay flags, --lab                  serve_lab.go (lab banner: serve_lab_auth.go)
//	    spam flags; serve dkim | blocklist  serve_spam.go
//	    transcript budget, --trusted-net    serve_harden.go
//	    --trace renderer                    serve_trace.go, serve_trace_access.go, serve_trace_dns.go
//	mailx serve user add | del | list       serve_user.go
//	mailx serve scenario                    serve_scenario.go
//	mailx mime encode | decode              mime.go, mime_encode.go, mime_decode.go (auth section: mime_auth.go)
//	mailx mime b64 | qp | words             mime_b64.go, mime_qp.go, mime_words.go
//	mailx lessons list | start | run | validate | check | format   lessons.go, lessons_extra.go
//	mailx transcript export                 transcript.go
//	mailx web                               web.go
//	mailx dnsbl check                       dnsbl.go
//	mailx auth explain                      auth.go
//	mailx spam train | explain              spam.go
//
// What several commands share has a file of its own: iostreams.go (the
// streams), errors.go (UserError and exit codes), talk.go (the talk
// commands' flags, front ends and session runner), paths.go (the state
// directory), invocation.go (how to name mailx in a "next:" hint).
//
// # IOStreams and runF
//
// A command never touches os.Stdout, os.Stdin or os.Exit and keeps no flag
// in a package variable. Its constructor takes the streams and an optional
// run function:
//
//	func newSMTPTalkCmd(ios *IOStreams, runF func(context.Context, *smtpTalkOptions) error) *cobra.Command
//
// The flags fill an options struct (smtpTalkOptions, with IO *IOStreams);
// RunE calls runF when a test gave one, else the plain function that does
// the work (runSMTPTalk). Flag tests pass a runF that records the options;
// run tests call the run function with TestIO() buffers and a loopback
// server; a few tests drive the built binary. IOStreams also says whether
// stdin and stdout are terminals and reads the environment (NO_COLOR) through
// Env, so that colour and prompts follow the terminal and tests can pin them.
//
// # mailx serve
//
// bindServeFlags (serve.go) defines every flag that writes into
// server.Config, by calling one function per part of the server in the
// order server.New adds the parts: addSMTPFlags, addAccessFlags,
// addWebFlags, addRelayFlags, addSpamFlags, addHardenFlags. It runs twice,
// once for the command line and once to lay the flags given over the
// config file (buildConfig). runServe then calls server.New and Start, and
// prints the banner. A new serve flag goes into its part's function; a new
// part gets its own add...Flags function, called from bindServeFlags.
//
// # Errors and exit codes
//
// Main returns the process exit code and never panics (a panic becomes an
// internal error, exit 1):
//
//	0  ExitOK       the operation succeeded
//	1  ExitFailure  it ran and failed: lookup failed, message refused, server unreachable
//	2  ExitUsage    the command line was wrong: unknown flag, missing argument, bad value
//
// A command returns a UserError (failure for 1, usageError for 2), which
// Main prints as "mailx: what happened" and a second line saying what to
// try next. Errors cobra finds before the command runs (flags, arguments)
// exit 2; a SilentError exits with its code after the command has already
// shown why (a session transcript that ends in the failure).
package cmd
