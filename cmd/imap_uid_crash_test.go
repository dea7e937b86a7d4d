package cmd

import (
	"bufio"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// imapSession is a minimal scripted IMAP client for the crash tests.
type imapSession struct {
	t  *testing.T
	c  net.Conn
	r  *bufio.Reader
	n  int
	ok bool
}

func dialIMAPSession(t *testing.T, addr string) *imapSession {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(60 * time.Second))
	s := &imapSession{t: t, c: c, r: bufio.NewReader(c)}
	s.r.ReadString('\n')
	return s
}

// do sends a command (its text may hold a LITERAL+ literal) and returns
// every line up to the tagged OK, failing on anything else.
func (s *imapSession) do(cmd string) string {
	s.t.Helper()
	s.n++
	tag := fmt.Sprintf("u%d", s.n)
	fmt.Fprintf(s.c, "%s %s\r\n", tag, cmd)
	var all strings.Builder
	for {
		l, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("IMAP %.40q: %v", cmd, err)
		}
		all.WriteString(l)
		if strings.HasPrefix(l, tag+" ") {
			if !strings.HasPrefix(l, tag+" OK") {
				s.t.Fatalf("IMAP %.40q: %s", cmd, all.String())
			}
			return all.String()
		}
	}
}

var appendUID = regexp.MustCompile(`APPENDUID \d+ (\d+)`)

func (s *imapSession) appendMsg(subject string) uint32 {
	s.t.Helper()
	msg := "Subject: " + subject + "\r\n\r\nHello.\r\n"
	out := s.do(fmt.Sprintf("APPEND INBOX {%d+}\r\n%s", len(msg), msg))
	m := appendUID.FindStringSubmatch(out)
	if m == nil {
		s.t.Fatalf("APPEND answered without APPENDUID: %s", out)
	}
	u, _ := strconv.ParseUint(m[1], 10, 32)
	return uint32(u)
}

// TestServeCrashNeverReusesIMAPUIDs: messages APPENDed over IMAP keep
// their UIDs through a SIGKILL, and a UID once given (to a message since
// expunged) is never given again after the restart, although mailx writes
// its index lazily and reserves UIDs ahead instead of making the index
// durable for every EXPUNGE.
func TestServeCrashNeverReusesIMAPUIDs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts mailx serve twice; skipped with -short")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	srv := startServeBinary(t, bin, data, "imap")
	imapAddr := srv.addr(t, "imap")
	s := dialIMAPSession(t, imapAddr)
	s.do("LOGIN bob crash-test")
	s.do("SELECT INBOX")
	var uids []uint32
	for i := 0; i < 6; i++ {
		uids = append(uids, s.appendMsg(fmt.Sprintf("a%d", i)))
	}
	s.do(fmt.Sprintf("UID STORE %d:%d +FLAGS.SILENT (\\Deleted)", uids[3], uids[5]))
	s.do("EXPUNGE")
	more := []uint32{s.appendMsg("b0"), s.appendMsg("b1")}
	s.do(fmt.Sprintf("UID STORE %d:%d +FLAGS.SILENT (\\Deleted)", more[0], more[1]))
	s.do("EXPUNGE")
	highest := more[1]
	srv.kill(t) // SIGKILL: no session ends cleanly, no index flush

	imapAddr = startServeBinary(t, bin, data, "imap").addr(t, "imap")
	s = dialIMAPSession(t, imapAddr)
	s.do("LOGIN bob crash-test")
	s.do("SELECT INBOX")
	out := s.do("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (Subject)])")
	for i, u := range uids[:3] {
		if !strings.Contains(out, fmt.Sprintf("UID %d ", u)) || !strings.Contains(out, fmt.Sprintf("Subject: a%d", i)) {
			t.Errorf("after the crash, message a%d (UID %d, APPEND answered OK) is missing or renumbered:\n%s", i, u, out)
		}
	}
	for _, gone := range []string{"a3", "a4", "a5", "b0", "b1"} {
		if strings.Contains(out, "Subject: "+gone+"\r") {
			t.Errorf("expunged message %s is back after the crash:\n%s", gone, out)
		}
	}
	if u := s.appendMsg("after"); u <= highest {
		t.Errorf("APPEND after the crash got UID %d; UIDs up to %d were given before (RFC 9051 §2.3.1.1: never again)", u, highest)
	}
}
