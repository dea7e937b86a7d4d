package pop3

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailx-edu/mailx/proto/note"
	p3 "github.com/mailx-edu/mailx/proto/pop3"
	"github.com/mailx-edu/mailx/server/access"
	"github.com/mailx-edu/mailx/server/maildir"
)

// maxErrors is how many failed commands a session may send before the
// server hangs up: enough for a student's typos, too few for a scanner.
const maxErrors = 20

type session struct {
	s     *Server
	conn  net.Conn // after STLS, the TLS connection
	raw   net.Conn // the accepted connection, closed by shutdown
	br    *bufio.Reader
	bw    *bufio.Writer
	trace access.Trace
	ip    netip.Addr
	tls   bool // TLS from the start (POP3S) or after STLS
	trust bool // loopback: clear-text passwords allowed

	state     p3.State
	user      string // name given with USER, waiting for PASS
	apopStamp string // the greeting's timestamp when APOP is offered
	errors    int
	inSASL    bool // reading AUTH responses, hidden from the trace

	owner    string // user whose maildrop is open
	folder   *maildir.Folder
	msgs     []maildir.Message // the maildrop as it was at login (RFC 1939 §5)
	deleted  []bool
	validity uint32 // UIDVALIDITY, part of every UIDL

	closeOnce sync.Once
}

func newSession(s *Server, c net.Conn) *session {
	_, isTLS := c.(*tls.Conn)
	return &session{
		s: s, conn: c, raw: c, br: bufio.NewReaderSize(c, 4096), bw: bufio.NewWriterSize(c, 32*1024),
		trace: access.Trace{Hook: s.cfg.Trace, Session: s.cfg.SessionID(), Proto: "pop3"},
		ip:    access.AddrOf(c.RemoteAddr()), tls: isTLS, trust: access.Trusted(c.RemoteAddr()),
	}
}

func (ss *session) shutdown() {
	ss.closeOnce.Do(func() { ss.raw.Close() })
}

// run is the session loop: greet, then read one bounded line at a time,
// check it against proto/pop3's table and answer.
func (ss *session) run() {
	defer ss.shutdown()
	defer ss.release()
	defer func() {
		if v := recover(); v != nil {
			ss.s.log.Error("pop3 session panic", "session", ss.trace.Session, "panic", v, "stack", string(debug.Stack()))
			ss.reply(p3.ErrCode("SYS/TEMP", "internal server error; the maildrop is unchanged"))
		}
	}()
	name := "pop3"
	if ss.tls {
		name = "pop3s"
	}
	// The first and last events follow the server trace convention:
	// "connect from …" opens the session's transcript, "closed" ends it.
	ss.trace.Meta("connect from %s to %s (%s)", ss.conn.RemoteAddr(), ss.conn.LocalAddr(), name)
	defer ss.trace.Meta("closed")
	ss.s.log.Debug("pop3 session start", "session", ss.trace.Session, "client", ss.conn.RemoteAddr().String())
	greeting := "mailx POP3 server ready"
	if ss.s.cfg.APOPSecret != nil {
		ss.apopStamp = fmt.Sprintf("<%d.%d@%s>", os.Getpid(), time.Now().UnixNano(), ss.s.cfg.Hostname)
		greeting += " " + ss.apopStamp
	}
	if ss.reply(p3.OK(greeting)) != nil {
		return
	}
	for ss.state != p3.Closed {
		line, err := ss.readLine()
		if err != nil {
			ss.dropped(err)
			return
		}
		resp, ok := ss.dispatch(line)
		if !ok {
			continue // the handler wrote its own response (RETR, TOP, AUTH, STLS)
		}
		if err := ss.reply(resp); err != nil {
			ss.dropped(err)
			return
		}
		if resp.Status == p3.StatusErr {
			ss.errors++
			if ss.errors >= maxErrors {
				ss.reply(p3.Err("too many errors; closing the connection (nothing was deleted)"))
				ss.trace.Meta("closed after %d errors", ss.errors)
				return
			}
		}
	}
}

// dropped reports a connection that ended without QUIT.
func (ss *session) dropped(err error) {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		idle := ss.idleTimeout()
		ss.trace.Meta("autologout after %s idle", idle)
		if ss.state == p3.Transaction {
			ss.reply(p3.Err(fmt.Sprintf("autologout: idle for %s; nothing was deleted", idle)))
		} else {
			ss.reply(p3.Err(fmt.Sprintf("autologout: no login within %s", idle)))
		}
	case ss.state == p3.Transaction:
		ss.trace.Meta("connection dropped before QUIT: no UPDATE state, so nothing marked with DELE was deleted")
	}
}

// idleTimeout is how long the session may stay silent: the autologout
// timer once logged in, the shorter LoginTimeout before.
func (ss *session) idleTimeout() time.Duration {
	if ss.state == p3.Transaction {
		return ss.s.cfg.Timeout
	}
	return ss.s.cfg.LoginTimeout
}

// readLine reads one command line, bounded by RFC 2449 §4's 255 octets
// (a longer line is consumed and refused), within the autologout timer.
func (ss *session) readLine() (string, error) {
	ss.conn.SetReadDeadline(time.Now().Add(ss.idleTimeout()))
	var buf []byte
	tooLong := false
	for {
		chunk, err := ss.br.ReadSlice('\n')
		if !tooLong {
			buf = append(buf, chunk...)
			if len(buf) > p3.DefaultLimits.CommandLine+2 {
				tooLong, buf = true, buf[:0]
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		break
	}
	if tooLong {
		ss.trace.Meta("client sent a command line longer than %d octets", p3.DefaultLimits.CommandLine)
		return "\x00toolong", nil
	}
	line := strings.TrimSuffix(strings.TrimSuffix(string(buf), "\n"), "\r")
	switch {
	case ss.inSASL && line != "*":
		ss.trace.Client(access.Hidden) // a SASL response: the credentials
	default:
		ss.trace.Client(access.RedactPOP3(line))
	}
	return line, nil
}

// reply writes a response (status line and, if multi-line, its stuffed
// body) and flushes.
func (ss *session) reply(r p3.Response) error {
	for _, l := range r.Wire() {
		ss.trace.Server(l)
		ss.bw.WriteString(l)
		ss.bw.WriteString("\r\n")
	}
	return ss.flush()
}

func (ss *session) flush() error {
	ss.conn.SetWriteDeadline(time.Now().Add(ss.s.cfg.Timeout))
	return ss.bw.Flush()
}

var handlers = map[string]func(*session, []string) (p3.Response, bool){
	"USER": (*session).cmdUser,
	"PASS": (*session).cmdPass,
	"APOP": (*session).cmdAPOP,
	"AUTH": (*session).cmdAuth,
	"STLS": (*session).cmdSTLS,
	"CAPA": (*session).cmdCapa,
	"QUIT": (*session).cmdQuit,
	"STAT": (*session).cmdStat,
	"LIST": (*session).cmdList,
	"RETR": (*session).cmdRetr,
	"TOP":  (*session).cmdTop,
	"DELE": (*session).cmdDele,
	"NOOP": (*session).cmdNoop,
	"RSET": (*session).cmdRset,
	"UIDL": (*session).cmdUIDL,
}

// dispatch checks a line against the command table and runs its handler.
// ok false means the handler already wrote the response.
func (ss *session) dispatch(line string) (p3.Response, bool) {
	if line == "\x00toolong" {
		return p3.Err(fmt.Sprintf("command line too long: at most %d octets (RFC 2449 §4)", p3.DefaultLimits.CommandLine)), true
	}
	verb, rest := ParseCommand(line)
	if _, known := p3.Lookup(verb); !known {
		return p3.UnknownCommand(verb), true
	}
	if !p3.Allowed(verb, ss.state) {
		return p3.BadSequence(verb, ss.state), true
	}
	if r, ok := p3.CheckArgs(verb, rest); !ok {
		return r, true
	}
	return handlers[verb](ss, p3.Args(verb, rest))
}

// ParseCommand splits a client line into its verb and arguments the way the
// server reads it: proto/pop3's Verb, after refusing NUL and other control
// characters (which no POP3 command contains and which could smuggle
// terminal escapes into the trace). It is the function FuzzParseCommand
// exercises.
func ParseCommand(line string) (verb, rest string) {
	for i := 0; i < len(line); i++ {
		if c := line[i]; c < ' ' && c != '\t' || c == 0x7f {
			return "\x00", ""
		}
	}
	verb, rest = p3.Verb(line)
	if len(verb) > 8 {
		verb = verb[:8]
	}
	return verb, rest
}

func (ss *session) cmdNoop([]string) (p3.Response, bool) { return p3.OK(""), true }

func (ss *session) cmdCapa([]string) (p3.Response, bool) {
	caps := []string{"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "EXPIRE NEVER",
		"IMPLEMENTATION mailx"}
	if ss.state == p3.Authorization {
		if ss.clearTextOK() {
			caps = append(caps, "USER", "SASL PLAIN")
		}
		if ss.s.cfg.TLS != nil && !ss.tls {
			caps = append(caps, "STLS")
		}
	}
	return p3.OKMulti("capability list follows", caps), true
}

func (ss *session) cmdQuit([]string) (p3.Response, bool) {
	if ss.state == p3.Authorization {
		ss.state = p3.Closed
		return p3.OK("mailx POP3 server signing off"), true
	}
	ss.state = p3.Update
	user := ss.owner
	var uids []uint32
	for i, d := range ss.deleted {
		if d {
			uids = append(uids, ss.msgs[i].UID)
		}
	}
	removed, err := ss.folder.Expunge(uids, ss)
	ss.state = p3.Closed
	left, _ := ss.folder.Status()
	// Unlock before answering: a client that reconnects as soon as it reads
	// the reply must find the maildrop free.
	ss.release()
	ss.trace.Meta("UPDATE: removed %d of %d messages marked with DELE", len(removed), len(uids))
	if err != nil {
		ss.s.log.Error("pop3 update failed", "session", ss.trace.Session, "user", user, "err", err)
		return p3.ErrCode("SYS/TEMP", fmt.Sprintf("some deleted messages were not removed (%d of %d); they are still there", len(uids)-len(removed), len(uids))), true
	}
	return p3.OK(fmt.Sprintf("mailx POP3 server signing off (%s left)", note.Count(int(left.Messages), "message"))), true
}

// msg resolves a message-number argument.
func (ss *session) msg(arg string) (int, *p3.Response) {
	n, err := strconv.Atoi(arg)
	if err != nil || n < 1 || strings.HasPrefix(arg, "+") {
		r := p3.Err(fmt.Sprintf("%q is not a message number: use a number from LIST", arg))
		return 0, &r
	}
	if n > len(ss.msgs) {
		r := p3.Err(fmt.Sprintf("no such message: the maildrop has %d", len(ss.msgs)))
		return 0, &r
	}
	if ss.deleted[n-1] {
		r := p3.Err(fmt.Sprintf("message %d is marked deleted (RSET unmarks it)", n))
		return 0, &r
	}
	return n - 1, nil
}

func (ss *session) cmdStat([]string) (p3.Response, bool) {
	n, size := 0, int64(0)
	for i, m := range ss.msgs {
		if !ss.deleted[i] {
			n++
			size += m.Size
		}
	}
	return p3.OK(fmt.Sprintf("%d %d", n, size)), true
}

func (ss *session) cmdList(args []string) (p3.Response, bool) {
	if len(args) == 1 {
		i, errResp := ss.msg(args[0])
		if errResp != nil {
			return *errResp, true
		}
		return p3.OK(fmt.Sprintf("%d %d", i+1, ss.msgs[i].Size)), true
	}
	var lines []string
	n, size := 0, int64(0)
	for i, m := range ss.msgs {
		if !ss.deleted[i] {
			lines = append(lines, fmt.Sprintf("%d %d", i+1, m.Size))
			n++
			size += m.Size
		}
	}
	return p3.OKMulti(fmt.Sprintf("%s (%d octets)", note.Count(n, "message"), size), lines), true
}

func (ss *session) uidl(i int) string {
	// Unique per folder incarnation and stable across sessions and restarts:
	// the IMAP UIDVALIDITY and UID, which the folder's index persists.
	return fmt.Sprintf("%d.%d", ss.validity, ss.msgs[i].UID)
}

func (ss *session) cmdUIDL(args []string) (p3.Response, bool) {
	if len(args) == 1 {
		i, errResp := ss.msg(args[0])
		if errResp != nil {
			return *errResp, true
		}
		return p3.OK(fmt.Sprintf("%d %s", i+1, ss.uidl(i))), true
	}
	var lines []string
	for i := range ss.msgs {
		if !ss.deleted[i] {
			lines = append(lines, fmt.Sprintf("%d %s", i+1, ss.uidl(i)))
		}
	}
	return p3.OKMulti("unique-id listing follows", lines), true
}

func (ss *session) cmdDele(args []string) (p3.Response, bool) {
	i, errResp := ss.msg(args[0])
	if errResp != nil {
		return *errResp, true
	}
	ss.deleted[i] = true
	return p3.OK(fmt.Sprintf("message %d marked deleted; it is removed when you QUIT", i+1)), true
}

func (ss *session) cmdRset([]string) (p3.Response, bool) {
	n, size := 0, int64(0)
	for i := range ss.deleted {
		ss.deleted[i] = false
		n++
		size += ss.msgs[i].Size
	}
	return p3.OK(fmt.Sprintf("maildrop has %s (%d octets); nothing is marked deleted", note.Count(n, "message"), size)), true
}

func (ss *session) cmdRetr(args []string) (p3.Response, bool) {
	i, errResp := ss.msg(args[0])
	if errResp != nil {
		return *errResp, true
	}
	if err := ss.sendMessage(i, -1); err != nil {
		return p3.ErrCode("SYS/TEMP", err.Error()), true
	}
	// Reading a message over POP3 marks it read, so an IMAP client or mutt
	// on the same Maildir shows it as such.
	ss.folder.SetFlags([]uint32{ss.msgs[i].UID}, maildir.Add, maildir.Seen, ss)
	return p3.Response{}, false
}

func (ss *session) cmdTop(args []string) (p3.Response, bool) {
	i, errResp := ss.msg(args[0])
	if errResp != nil {
		return *errResp, true
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 0 {
		c, _ := p3.Lookup("TOP")
		return p3.SyntaxError(c, "n is the number of body lines, 0 or more"), true
	}
	if err := ss.sendMessage(i, n); err != nil {
		return p3.ErrCode("SYS/TEMP", err.Error()), true
	}
	return p3.Response{}, false
}

// sendMessage streams message i as a multi-line response: the header, and
// the whole body (bodyLines < 0) or its first bodyLines lines (TOP). Lines
// are byte-stuffed and the message is never held in memory whole.
func (ss *session) sendMessage(i, bodyLines int) error {
	m := ss.msgs[i]
	rc, _, err := ss.folder.Open(m.UID)
	if err != nil {
		if errors.Is(err, maildir.ErrNoMessage) {
			return fmt.Errorf("message %d was removed by another session (IMAP) since you logged in", i+1)
		}
		ss.s.log.Error("pop3 open message", "session", ss.trace.Session, "err", err)
		return fmt.Errorf("message %d cannot be read right now; try again", i+1)
	}
	defer rc.Close()
	status := p3.OK(fmt.Sprintf("%d octets", m.Size))
	if bodyLines >= 0 {
		status = p3.OK(fmt.Sprintf("header and first %d body lines follow", bodyLines))
	}
	ss.trace.Server(status.StatusLine())
	ss.bw.WriteString(status.StatusLine() + "\r\n")
	br := bufio.NewReaderSize(rc, 32*1024)
	inBody, traced, body := false, 0, 0
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line[:0], chunk...)
		for err == bufio.ErrBufferFull {
			chunk, err = br.ReadSlice('\n')
			line = append(line, chunk...)
		}
		if len(line) == 0 && err != nil {
			break
		}
		text := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
		if inBody {
			if bodyLines >= 0 && body >= bodyLines {
				break
			}
			body++
		} else if text == "" {
			inBody = true
		}
		wire := p3.Stuff(text)
		if traced < ss.s.cfg.TraceBodyLines {
			ss.trace.Server(wire)
		}
		traced++
		ss.bw.WriteString(wire)
		ss.bw.WriteString("\r\n")
		if err != nil {
			break
		}
	}
	if traced > ss.s.cfg.TraceBodyLines {
		ss.trace.Meta("%d more lines of message %d not shown in the trace", traced-ss.s.cfg.TraceBodyLines, i+1)
	}
	ss.trace.Server(".")
	ss.bw.WriteString(".\r\n")
	return ss.flush()
}

// open locks and opens user's maildrop after a successful login, moving to
// TRANSACTION. It returns the response to send.
func (ss *session) open(user string) p3.Response {
	if holder, ok := ss.s.lock(user, ss.trace.Session); !ok {
		ss.trace.Meta("maildrop of %s is locked by session %s", user, holder)
		return p3.ErrCode("IN-USE", fmt.Sprintf("%s's maildrop is open in another POP3 session (%s); QUIT that one first", user, holder))
	}
	fail := func(err error) p3.Response {
		ss.s.unlock(user, ss.trace.Session)
		ss.s.log.Error("pop3 open maildrop", "session", ss.trace.Session, "user", user, "err", err)
		return p3.ErrCode("SYS/TEMP", "the maildrop cannot be opened right now; try again later")
	}
	mb, err := maildir.OpenMailbox(ss.s.cfg.MailRoot(user))
	if err != nil {
		return fail(err)
	}
	mb.SetSettler(ss.s.cfg.Settler)
	f, err := mb.Folder(maildir.Inbox)
	if err != nil {
		return fail(err)
	}
	if err := f.SeeNew(); err != nil {
		return fail(err)
	}
	msgs, err := f.Messages()
	if err != nil {
		return fail(err)
	}
	st, err := f.Status()
	if err != nil {
		return fail(err)
	}
	ss.owner, ss.folder, ss.msgs, ss.deleted, ss.validity = user, f, msgs, make([]bool, len(msgs)), st.UIDValidity
	ss.state = p3.Transaction
	var size int64
	for _, m := range msgs {
		size += m.Size
	}
	ss.trace.Meta("%s logged in; maildrop locked with %s", user, note.Count(len(msgs), "message"))
	ss.s.log.Info("pop3 login", "session", ss.trace.Session, "user", user, "messages", len(msgs))
	return p3.OK(fmt.Sprintf("%s's maildrop has %s (%d octets)", user, note.Count(len(msgs), "message"), size))
}

// release unlocks the maildrop when the session ends, whatever the reason.
func (ss *session) release() {
	if ss.owner != "" {
		ss.s.unlock(ss.owner, ss.trace.Session)
		ss.owner = ""
	}
}
