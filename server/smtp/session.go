package smtp

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// session is one client connection: its protocol state, and two helpers
// that keep the machinery for speed out of it: in reads the client's lines
// (input.go) and copies writes the last message's local copies after its
// reply (copies.go).
type session struct {
	srv    *Server
	id     string
	conn   net.Conn
	in     clientReader
	w      *bufio.Writer
	client netip.Addr
	local  bool // the client is on loopback: AUTH allowed without TLS

	state    smtp.State
	lfOnly   bool // the first command ended in a bare LF
	modeSet  bool
	tls      *tls.ConnectionState
	helo     string
	esmtp    bool
	authUser string
	ext      sessionExt // XCLIENT (xclient.go)
	errors   int        // failed commands so far (Limits.Errors)
	txns     int        // messages queued in this session
	copies   localCopies

	// The open transaction.
	mail  smtp.MailArgs
	rcpts []string

	// What Shutdown, on another goroutine, reads and sets.
	mu      sync.Mutex
	inData  bool // receiving a message: Shutdown lets it finish
	stopped bool // Shutdown ended the session: the next read fails at once
}

func newSession(srv *Server, c net.Conn, ip netip.Addr) *session {
	s := &session{
		srv:    srv,
		id:     srv.cfg.SessionID(),
		conn:   c,
		w:      bufio.NewWriterSize(c, 1024),
		client: ip,
		local:  ip.IsLoopback(),
	}
	s.in = newClientReader(newPollingInput(c, s.mayPoll, &srv.polling))
	return s
}

// mayPoll reports whether waiting for input by polling (input_linux.go)
// takes a CPU from nobody: this is the only session open, and its last
// message's copies are not being written on another thread.
func (s *session) mayPoll() bool {
	return s.srv.open.Load() == 1 && !s.copies.busy()
}

// handlers run one command each and return the reply; only the loop writes.
var handlers = map[string]func(*session, string) smtp.Reply{
	"HELO":     (*session).heloCmd,
	"EHLO":     (*session).ehlo,
	"MAIL":     (*session).mailCmd,
	"RCPT":     (*session).rcptCmd,
	"DATA":     (*session).dataCmd,
	"RSET":     (*session).rset,
	"NOOP":     (*session).noop,
	"VRFY":     (*session).vrfy,
	"HELP":     (*session).help,
	"QUIT":     (*session).quit,
	"STARTTLS": (*session).starttls,
	"AUTH":     (*session).auth,
	"XCLIENT":  (*session).xclient,
}

// helpVerbs lists the commands for HELP. XCLIENT is left out: only
// trusted clients may use it, and EHLO tells them (xclient.go).
const helpVerbs = "AUTH DATA EHLO HELO HELP MAIL NOOP QUIT RCPT RSET STARTTLS VRFY"

// errStop ends the session after its last reply.
var errStop = errors.New("session over")

func (s *session) run() {
	lim := s.srv.limits
	s.trace(transcript.Meta, fmt.Sprintf("connect from %s to %s (%s)", s.conn.RemoteAddr(), s.conn.LocalAddr(), s.srv.cfg.Name))
	// Debug: one line per connection would let a connect-and-close flood
	// fill the log; what a session did (AUTH, messages) is logged at Info.
	s.srv.log.Debug("session start", "session", s.id, "listener", s.srv.cfg.Name, "client", s.conn.RemoteAddr().String())
	defer func() {
		if r := recover(); r != nil {
			s.srv.log.Error("panic in SMTP session", "session", s.id, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			s.trace(transcript.Meta, fmt.Sprintf("internal error: %v", r))
			s.writeReply(smtp.InternalError(s.srv.cfg.Hostname))
			s.w.Flush()
		}
		s.copies.wait()
		s.trace(transcript.Meta, "closed")
		s.conn.Close()
		s.in.dropBulk()
		s.srv.log.Debug("session end", "session", s.id, "messages", s.txns)
	}()
	if tc, ok := s.conn.(*tls.Conn); ok {
		s.conn.SetDeadline(time.Now().Add(lim.Idle))
		if err := tc.Handshake(); err != nil {
			s.trace(transcript.Meta, "TLS handshake failed: "+err.Error())
			return
		}
		st := tc.ConnectionState()
		s.tls = &st
		s.trace(transcript.Meta, "tls: "+tlsDescription(&st)+" (implicit)")
		s.conn.SetDeadline(time.Time{})
	}
	s.state = smtp.Connected
	if r := s.policyConnect(); r != nil {
		s.send(*r)
		if r.Code == 421 {
			return
		}
	}
	s.send(smtp.Greeting(s.srv.cfg.Hostname))
	for {
		if err := s.step(); err != nil {
			if !errors.Is(err, errStop) {
				s.srv.log.Debug("session ended", "session", s.id, "err", err)
			}
			return
		}
	}
}

// step reads one command, runs it and writes the reply; after a 354 it
// reads the message text too.
func (s *session) step() error {
	if s.srv.isClosing() {
		s.send(smtp.ShuttingDown(s.srv.cfg.Hostname))
		return errStop
	}
	line, err := s.readCommand()
	if err != nil {
		return s.readFailed(err)
	}
	verb, arg := smtp.Verb(line.text)
	if verb == "AUTH" {
		s.trace(transcript.Client, redactAuth(line.text))
	} else {
		s.trace(transcript.Client, line.text)
	}
	if verb != "MAIL" && verb != "RCPT" && verb != "DATA" {
		// Only the next transaction overlaps the last message's Maildir
		// writes: whoever hears anything else from the server (a QUIT's
		// 221, a NOOP's 250) finds the message in the mailboxes.
		s.copies.wait()
	}
	reply := s.answer(line, verb, arg)
	prev := s.state
	s.state = smtp.Next(s.state, verb, reply.Code)
	if err := s.send(reply); err != nil {
		return err
	}
	if s.tooManyErrors(reply) {
		return errStop
	}
	switch {
	case reply.Code == 421 || s.state == smtp.Closed:
		return errStop
	case verb == "STARTTLS" && reply.Code == 220:
		return s.upgradeTLS()
	case s.state == smtp.InData && prev != smtp.InData:
		return s.data()
	}
	return nil
}

// answer is the reply to one command line: a refusal of the line itself,
// or its handler's reply. The first reply of an LF-only session says so.
func (s *session) answer(line cmdLine, verb, arg string) smtp.Reply {
	lim := s.srv.limits
	var reply smtp.Reply
	switch {
	case line.long && verb == "AUTH":
		reply = smtp.LineTooLong("AUTH command line", lim.AuthLine)
	case line.long:
		reply = smtp.LineTooLong("Command line", lim.CommandLine)
	case line.problem != "":
		reply = smtp.NewReply(500, "5.5.2", line.problem)
	default:
		reply = s.dispatch(verb, arg)
	}
	if !s.modeSet {
		s.modeSet = true
		if s.lfOnly {
			reply = withLFNote(reply, verb)
		}
	}
	return reply
}

// tooManyErrors counts a failed command and, at the limit, says 421 and
// reports that the session is over.
func (s *session) tooManyErrors(reply smtp.Reply) bool {
	if reply.Code < 400 || reply.Code == 421 {
		return false
	}
	s.errors++
	if s.errors < s.srv.limits.Errors {
		return false
	}
	s.trace(transcript.Meta, fmt.Sprintf("closing: %d errors in this session", s.errors))
	s.send(smtp.TooManyErrors(s.srv.cfg.Hostname))
	return true
}

// data reads the message text after the 354, answers it, and then starts
// the message's local copies.
func (s *session) data() error {
	final := s.receiveData()
	if final.Code == 0 {
		return io.EOF
	}
	s.state = smtp.Next(smtp.InData, "DATA", final.Code)
	err := s.send(final)
	s.copies.start(s.srv.log, s.id)
	if err != nil {
		return err
	}
	if final.Code == 421 {
		return errStop
	}
	if final.Code >= 400 {
		s.errors++
	}
	return nil
}

// dispatch checks the verb against proto/smtp's table and runs its handler.
func (s *session) dispatch(verb, arg string) smtp.Reply {
	if _, known := smtp.Lookup(verb); !known {
		return smtp.UnknownCommand(verb)
	}
	if !smtp.Allowed(verb, s.state) {
		return smtp.BadSequence(verb, s.state)
	}
	h, ok := handlers[verb]
	if !ok {
		return smtp.CommandNotImplemented(verb)
	}
	return h(s, arg)
}

// readFailed turns a read error into the session's end, with 421 4.4.2 on
// timeouts and 421 4.3.2 when the server is shutting down.
func (s *session) readFailed(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		if s.isStopped() {
			s.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
			s.send(smtp.ShuttingDown(s.srv.cfg.Hostname))
			return errStop
		}
		s.trace(transcript.Meta, "timeout: the client sent nothing for "+s.srv.limits.Idle.String())
		s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		s.send(smtp.Timeout(s.srv.cfg.Hostname))
		return errStop
	}
	if errors.Is(err, io.EOF) {
		s.trace(transcript.Meta, "the client closed the connection without QUIT")
	}
	// Replies held back while pipelined commands were waiting still go
	// out: a client that shut down its side after its last command (nc -N,
	// a script piping commands in) is still reading them.
	s.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	s.w.Flush()
	return err
}

// interrupt makes a blocked read return so the session can end: at once for
// idle sessions, and for sessions inside DATA only when force is set.
func (s *session) interrupt(force bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inData && !force {
		return
	}
	s.stopped = true
	s.conn.SetReadDeadline(time.Now())
}

func (s *session) isStopped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopped
}

// send writes a reply and flushes unless the client has pipelined more
// commands that are already waiting (RFC 2920 §3.1: the server may batch
// replies to a pipelined group).
func (s *session) send(r smtp.Reply) error {
	s.policyDelay()
	s.writeReply(r)
	if s.in.buffered() > 0 && s.state != smtp.InData && r.Code != 354 && r.Code != 334 && r.Code != 221 && r.Code != 421 {
		return nil
	}
	return s.w.Flush()
}

func (s *session) writeReply(r smtp.Reply) {
	for _, l := range r.Wire() {
		if len(l) == 3 {
			// "334 " with an empty challenge keeps its space (RFC 4954 §4:
			// continue-req = "334" SP [base64]).
			l += " "
		}
		s.trace(transcript.Server, l)
		s.w.WriteString(l)
		s.w.WriteString("\r\n")
	}
}

func (s *session) trace(d transcript.Dir, line string) {
	if s.srv.cfg.Trace != nil {
		s.srv.cfg.Trace(transcript.Event{Time: s.srv.cfg.Now(), Session: s.id, Proto: "smtp", Dir: d, Line: line})
	}
}

// withLFNote adds the announcement of LF-only mode to the first reply.
func withLFNote(r smtp.Reply, verb string) smtp.Reply {
	const lfNote = "Note: your lines end in a bare LF (no CR), so this session runs in LF-only mode: LF ends each line and a \".\" alone ends DATA"
	lines := append([]string{}, r.Lines...)
	if verb == "EHLO" && r.Code == 250 && len(lines) > 0 {
		// The first line of an EHLO reply must stay the greeting (RFC 5321
		// §4.1.1.1); the note goes on it after the domain.
		lines[0] += " (" + lfNote + ")"
	} else {
		lines = append([]string{lfNote}, lines...)
	}
	r.Lines = lines
	return r
}

func (s *session) resetTxn() {
	s.mail = smtp.MailArgs{}
	s.rcpts = nil
}

// maxHelo is the longest HELO/EHLO argument: a domain name's 255 octets
// (RFC 1035 §2.3.4), which also keeps the Received: line that quotes it
// far under the 998-octet line limit of RFC 5322 §2.1.1.
const maxHelo = 255

// checkHelo refuses an argument no host could have: too long, or not
// UTF-8 (it is copied into Received:, which must stay valid text).
func checkHelo(verb, arg string) *smtp.Reply {
	var r smtp.Reply
	switch {
	case len(arg) > maxHelo:
		r = smtp.HeloInvalid(verb, fmt.Sprintf("is %d octets; a host name has at most %d (RFC 1035 §2.3.4)", len(arg), maxHelo))
	case !utf8.ValidString(arg):
		r = smtp.HeloInvalid(verb, "is not valid UTF-8; give your host name, e.g. laptop.example, or an address literal such as [192.0.2.1]")
	default:
		return nil
	}
	return &r
}

func (s *session) heloCmd(arg string) smtp.Reply {
	if arg == "" || strings.ContainsAny(arg, " \t") {
		return smtp.SyntaxError("Syntax: HELO <your host name>, e.g. HELO laptop.example")
	}
	if r := checkHelo("HELO", arg); r != nil {
		return *r
	}
	s.resetTxn()
	s.helo, s.esmtp = arg, false
	return smtp.NewReply(250, "", fmt.Sprintf("%s greets %s", s.srv.cfg.Hostname, arg))
}

func (s *session) ehlo(arg string) smtp.Reply {
	if arg == "" || strings.ContainsAny(arg, " \t") {
		return smtp.SyntaxError("Syntax: EHLO <your host name>, e.g. EHLO laptop.example")
	}
	if r := checkHelo("EHLO", arg); r != nil {
		return *r
	}
	s.resetTxn()
	s.helo, s.esmtp = arg, true
	lines := []string{
		fmt.Sprintf("%s greets %s", s.srv.cfg.Hostname, arg),
		"PIPELINING",
		fmt.Sprintf("SIZE %d", s.srv.limits.MessageSize),
		"8BITMIME",
		"ENHANCEDSTATUSCODES",
	}
	if s.srv.cfg.TLS != nil && s.tls == nil {
		lines = append(lines, "STARTTLS")
	}
	if s.authAllowed() && s.authUser == "" {
		lines = append(lines, "AUTH PLAIN LOGIN")
	}
	lines = append(lines, s.xclientAdvert()...)
	lines = append(lines, "SMTPUTF8", "HELP")
	return smtp.NewReply(250, "", lines...)
}

func (s *session) rset(arg string) smtp.Reply {
	if arg != "" {
		return smtp.SyntaxError("Syntax: RSET (no argument)")
	}
	s.resetTxn()
	return smtp.ResetOK()
}

func (s *session) noop(string) smtp.Reply { return smtp.NoopOK() }

func (s *session) quit(arg string) smtp.Reply {
	if arg != "" {
		return smtp.SyntaxError("Syntax: QUIT (no argument)")
	}
	return smtp.Bye(s.srv.cfg.Hostname)
}

func (s *session) vrfy(arg string) smtp.Reply {
	if arg == "" {
		return smtp.SyntaxError("Syntax: VRFY <user or address>")
	}
	if !s.srv.cfg.VRFY {
		return smtp.CannotVerify()
	}
	a := strings.Trim(arg, "<>")
	u, ok := s.srv.cfg.Directory.ResolveLocal(a)
	if strings.Contains(a, "@") {
		u, ok = s.srv.cfg.Directory.Resolve(a)
	}
	if !ok {
		return smtp.MailboxUnavailable(a)
	}
	return smtp.NewReply(250, "2.1.5", fmt.Sprintf("<%s@%s>", u, s.srv.cfg.Directory.Primary()))
}

func (s *session) help(arg string) smtp.Reply {
	if arg != "" {
		c, ok := smtp.Lookup(arg)
		if !ok {
			return smtp.NewReply(504, "5.5.1", fmt.Sprintf("No help for %q: try HELP for the list", arg))
		}
		return smtp.NewReply(214, "2.0.0", c.Syntax, c.Summary, "See "+c.Ref)
	}
	return smtp.NewReply(214, "2.0.0",
		"Commands: "+helpVerbs,
		"A message: EHLO, MAIL FROM:<you@example>, RCPT TO:<them@"+s.srv.cfg.Directory.Primary()+">, DATA, text, \".\", QUIT",
		"HELP <command> explains one command")
}

func tlsDescription(st *tls.ConnectionState) string {
	return tls.VersionName(st.Version) + ", " + tls.CipherSuiteName(st.CipherSuite)
}
