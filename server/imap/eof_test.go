package imap

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// pipeSession sends in as a client piping a file into nc does, ends its
// side, and returns everything the server sent until it closed.
func pipeSession(t *testing.T, addr, in string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, in)
	c.(*net.TCPConn).CloseWrite()
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("the session did not end: %v; got %q", err, out)
	}
	return string(out)
}

// TestPipedCommandsAreAnswered: commands followed at once by the end of the
// client's input (printf ... | nc) are all answered before the server
// closes; before, the front end closed at EOF and the student saw nothing.
func TestPipedCommandsAreAnswered(t *testing.T) {
	e := startIMAP(t, nil)
	out := pipeSession(t, e.addr, "a LOGIN alice hungry\r\nb SELECT INBOX\r\nc FETCH 1 (FLAGS)\r\n")
	for _, want := range []string{"* OK ", "a OK ", "* 2 EXISTS", "b OK ", "* 1 FETCH (", "c OK ", "eof OK LOGOUT", "* BYE "} {
		if !strings.Contains(out, want) {
			t.Errorf("the answers lack %q:\n%s", want, out)
		}
	}
	if tr := e.trace(); !strings.Contains(tr, "the client stopped sending") {
		t.Errorf("the trace does not say why the session ends:\n%s", tr)
	}
}

// TestGreetingComesFirst: a STARTTLS sent before the greeting arrived is
// answered after it, never before (the front end answers STARTTLS itself).
func TestGreetingComesFirst(t *testing.T) {
	e := startIMAP(t, nil)
	for i := 0; i < 20; i++ {
		c, err := net.DialTimeout("tcp", e.addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "a STARTTLS\r\n")
		first, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if err != nil || !strings.HasPrefix(first, "* OK ") {
			t.Fatalf("first line %q (%v), want the greeting", first, err)
		}
	}
}

// TestUnansweredLiteralIsBounded: a literal go-imap never answers (an open
// quoted string swallowed its command) ends the session after Autologout
// instead of holding it for ever.
func TestUnansweredLiteralIsBounded(t *testing.T) {
	e := startIMAP(t, func(c *Config) { c.Autologout = 300 * time.Millisecond })
	out := pipeSession(t, e.addr, "a LOGIN \"alice hungry\r\nb APPEND INBOX {11}\r\n")
	if !strings.Contains(out, "* BYE Autologout") {
		t.Errorf("got %q, want a BYE for the unanswered literal", out)
	}
}
