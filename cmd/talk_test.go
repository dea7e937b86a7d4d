package cmd

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/server/servertest"
)

// startTalkServe runs mailx serve's MTA in the test process with SMTP, POP3
// and IMAP on loopback ports, and its generated self-signed certificate.
func startTalkServe(t *testing.T) *servertest.MTA {
	t.Helper()
	return servertest.Start(t, servertest.Options{Services: []string{servertest.SMTP, servertest.POP3, servertest.IMAP}})
}

// TestTalkStartTLSAgainstServe: --starttls upgrades each protocol's session
// with mailx serve (STARTTLS, STLS, STARTTLS) before the script's first line,
// shows the certificate, and goes on inside TLS. Without --insecure the
// self-signed certificate is refused with a hint.
func TestTalkStartTLSAgainstServe(t *testing.T) {
	m := startTalkServe(t)
	for _, tc := range []struct {
		proto, svc, script string
		want               []string
	}{
		{"smtp", "smtp", "EHLO student.test\nQUIT\n", []string{"C: EHLO ", "C: STARTTLS", "S: 220 2.0.0 Ready to start TLS", "send EHLO again", "C: EHLO student.test", "S: 221 "}},
		{"pop3", "pop3", "USER alice\nPASS hungry\nSTAT\nQUIT\n", []string{"C: STLS", "S: +OK ", "C: PASS hungry", "S: +OK 0 0", "signing off"}},
		{"imap", "imap", "LOGIN alice hungry\nLOGOUT\n", []string{"C: a001 STARTTLS", "C: a002 LOGIN alice hungry", "a002 OK", "a003 OK LOGOUT"}},
	} {
		t.Run(tc.proto, func(t *testing.T) {
			addr := m.Addr(tc.svc)
			out, stderr, code := runMailx(t, tc.script, tc.proto, "talk", addr, "--starttls", "--insecure")
			if code != 0 {
				t.Fatalf("exit %d, stderr %q\n%s", code, stderr, out)
			}
			want := append([]string{"TLS is up: TLS 1.3", "subject:  CN=mailx.test", "certificate NOT verified (--insecure)"}, tc.want...)
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			// The upgrade comes before the first line of the script, and
			// then a password is no longer said to cross in clear text.
			first := strings.SplitN(tc.script, "\n", 2)[0]
			if i, j := strings.Index(out, "TLS is up"), strings.LastIndex(out, first); i < 0 || j < i {
				t.Errorf("the script's first line was sent before TLS was up:\n%s", out)
			}
			if strings.Contains(out, "crosses the network as typed") {
				t.Errorf("a cleartext-password warning inside TLS:\n%s", out)
			}
			out, stderr, code = runMailx(t, tc.script, tc.proto, "talk", addr, "--starttls")
			if code != ExitFailure || !strings.Contains(stderr, "signed by an unknown authority") || !strings.Contains(stderr, "--insecure") {
				t.Errorf("without --insecure: exit %d, stderr %q\n%s", code, stderr, out)
			}
		})
	}
}

// startServer is a one-connection server on loopback that greets, then
// answers each line the client sends with respond's reply ("\n" becomes
// CRLF), and closes after the last one. A nil respond closes right after the
// greeting, as a busy server does.
func startServer(t *testing.T, greeting string, respond func(line string) (reply string, last bool)) net.Addr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		say := func(s string) { c.Write([]byte(strings.ReplaceAll(s, "\n", "\r\n") + "\r\n")) }
		say(greeting)
		r := bufio.NewReader(c)
		for respond != nil {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			reply, last := respond(l)
			say(reply)
			if last {
				return
			}
		}
	}()
	return ln.Addr()
}

// startScripted answers every line with reply (TAG replaced by the line's
// first word) and QUIT or LOGOUT with bye; with reply "" it closes after
// the greeting.
func startScripted(t *testing.T, greeting, reply, bye string) string {
	respond := func(l string) (string, bool) {
		tag := strings.Fields(l + " x")[0]
		if u := strings.ToUpper(l); strings.Contains(u, "QUIT") || strings.Contains(u, "LOGOUT") {
			return strings.ReplaceAll(bye, "TAG", tag), true
		}
		return strings.ReplaceAll(reply, "TAG", tag), false
	}
	if reply == "" {
		respond = nil
	}
	return startServer(t, greeting, respond).String()
}

// TestTalkStartTLSRefused: a server that refuses the upgrade ends the
// session with exit 1 and says why, rather than going on in plain text.
func TestTalkStartTLSRefused(t *testing.T) {
	for _, tc := range []struct{ proto, greeting, reply, bye string }{
		{"smtp", "220 mx.test ESMTP", "502 5.5.1 not implemented", "221 bye"},
		{"pop3", "+OK ready", "-ERR no TLS here", "+OK bye"},
		{"imap", "* OK ready", "TAG BAD no TLS here", "* BYE\nTAG OK bye"},
	} {
		addr := startScripted(t, tc.greeting, tc.reply, tc.bye)
		out, stderr, code := runMailx(t, "NOOP\n", tc.proto, "talk", addr, "--starttls")
		if code != ExitFailure || !strings.Contains(stderr, "did not start TLS (--starttls)") {
			t.Errorf("%s: exit %d, stderr %q\n%s", tc.proto, code, stderr, out)
		}
		if strings.Contains(out, "C: NOOP") || strings.Contains(out, "a002 NOOP") {
			t.Errorf("%s: the script went on in plain text:\n%s", tc.proto, out)
		}
	}
}

// TestTalkWrongPort: each talk command pointed at another protocol's port
// says so and names the usual ports, with exit 1 and no stack trace.
func TestTalkWrongPort(t *testing.T) {
	m := startTalkServe(t)
	for _, tc := range []struct{ proto, svc, port string }{
		{"smtp", "pop3", "25"}, {"pop3", "imap", "110"}, {"imap", "smtp", "143"},
	} {
		out, stderr, code := runMailx(t, "NOOP\n", tc.proto, "talk", m.Addr(tc.svc), "--response-timeout", "5s")
		if code != ExitFailure || !strings.Contains(stderr, "greeted with something that is not "+strings.ToUpper(tc.proto)) || !strings.Contains(stderr, "port "+tc.port) {
			t.Errorf("%s talk to %s: exit %d, stderr %q\n%s", tc.proto, tc.svc, code, stderr, out)
		}
	}
}

// TestSMTPTalkRefusingGreeting: a 554 greeting is a refused session (exit 1)
// even though the script then runs to QUIT.
func TestSMTPTalkRefusingGreeting(t *testing.T) {
	addr := startScripted(t, "554 5.3.2 mx.test no service for you", "503 5.5.1 go away", "221 bye")
	out, stderr, code := runMailx(t, "QUIT\n", "smtp", "talk", addr)
	if code != ExitFailure || !strings.Contains(stderr, "the server refused the session") || !strings.Contains(out, "S: 554 5.3.2") {
		t.Errorf("exit %d, stderr %q\n%s", code, stderr, out)
	}
}

// TestSMTPReplayStepsOnTerminal: on a terminal, replay stops after each
// server reply until Enter, and q ends it; the rest is not shown.
func TestSMTPReplayStepsOnTerminal(t *testing.T) {
	ios, out, errOut := TestIO("\n\nq\n")
	ios.StdinTTY, ios.StdoutTTY = true, true
	if code := run(context.Background(), []string{"smtp", "replay", "--example", "hill", "--no-color"}, ios); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	got := out.String()
	if n := strings.Count(got, "[Enter] next step, q to stop> "); n != 3 {
		t.Errorf("%d pauses, want 3 (two Enters, then q):\n%s", n, got)
	}
	// Three steps: the greeting, HELO and MAIL FROM; RCPT TO never shows.
	if !strings.Contains(got, "C: MAIL FROM:<jack@town.test>") || strings.Contains(got, "C: RCPT TO") {
		t.Errorf("replay did not stop at q:\n%s", got)
	}
	// Enter pressed at every pause plays it all.
	all := strings.Repeat("\n", 40)
	ios, out, _ = TestIO(all)
	ios.StdinTTY, ios.StdoutTTY = true, true
	if code := run(context.Background(), []string{"smtp", "replay", "--example", "hill"}, ios); code != 0 || !strings.Contains(out.String(), "S: 221 ") {
		t.Errorf("Enter to the end: exit %d\n%s", code, out)
	}
}

// waitFor waits until out contains want, failing after 30 s.
func waitFor(t *testing.T, out *testkit.Buffer, want string) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, func() bool { return strings.Contains(out.String(), want) },
		"no %q:\n%s", want, out)
}

// TestIMAPTalkAgainstServe drives `mailx imap talk` against mailx serve's
// IMAP as a student would: LOGIN, SELECT, SEARCH, FETCH, STORE, then IDLE,
// during which a message sent with `mailx smtp send` arrives and is pushed
// as EXISTS; DONE ends IDLE and LOGOUT the session.
func TestIMAPTalkAgainstServe(t *testing.T) {
	m := startTalkServe(t)
	send := func(subject string) {
		t.Helper()
		out, stderr, code := runMailx(t, "", "smtp", "send", "--server", m.Addr("smtp"), "--from", "bob@example.com",
			"--to", "alice@mailx.test", "--subject", subject, "--body", "Are you hungry?")
		if code != 0 {
			t.Fatalf("smtp send: exit %d, %s\n%s", code, stderr, out)
		}
	}
	send("lunch")

	pr, pw := io.Pipe()
	out := &testkit.Buffer{}
	errOut := &testkit.Buffer{}
	ios := &IOStreams{In: pr, Out: out, ErrOut: errOut, Env: func(string) string { return "" }}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"imap", "talk", m.Addr("imap")}, ios) }()
	t.Cleanup(func() { pw.Close() })

	type_ := func(lines ...string) { io.WriteString(pw, strings.Join(lines, "\n")+"\n") }
	type_("LOGIN alice hungry")
	waitFor(t, out, "a001 OK")
	// The first message may still be on its way from the queue to the Maildir.
	n := 1
	testkit.Eventually(t, 30*time.Second, func() bool {
		n++
		type_("SELECT INBOX")
		waitFor(t, out, "a00"+strconv.Itoa(n)+" OK")
		return strings.Contains(out.String(), "* 1 EXISTS")
	}, "the first message never reached INBOX:\n%s", out)
	type_("SEARCH SUBJECT lunch", "FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])", `STORE 1 +FLAGS (\Flagged)`, "IDLE")
	waitFor(t, out, "S: + ")
	send("dinner")
	waitFor(t, out, "* 2 EXISTS")
	type_("DONE", "FETCH 2 (FLAGS ENVELOPE)", "LOGOUT")
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
		}
	case <-ctx.Done():
		t.Fatalf("imap talk did not end:\n%s", out)
	}
	got := out.String()
	for _, want := range []string{
		"S: * SEARCH 1", "S: Subject: lunch", `FLAGS (\Flagged \Recent))`, // message 1 is \Recent in this first session (RFC 3501 §2.3.2)
		"C: DONE", "OK IDLE", `"dinner" ((NIL NIL "bob" "example.com"))`, "S: * BYE",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("session lacks %q:\n%s", want, got)
		}
	}
}
