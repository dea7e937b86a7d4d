package explore

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/proto/transcript"
)

var fullSession = []step{
	{want: "EHLO", reply: "250-mx.test greets student.test\n250-PIPELINING\n250-SIZE 10240000\n250-8BITMIME\n250-ENHANCEDSTATUSCODES\n250-XYZZY\n250 SMTPUTF8"},
	{want: "MAIL", reply: "250 2.1.0 Ok"},
	{want: "RCPT", reply: "550 5.1.1 <nobody@mx.test>: Recipient address rejected: User unknown"},
	{want: "RCPT", reply: "250 2.1.5 Ok"},
	{want: "DATA", reply: "354 End data with <CR><LF>.<CR><LF>", data: true, dataReply: "250 2.0.0 Ok: queued as 4F2A1C9D"},
	{want: "QUIT", reply: "221 2.0.0 Bye"},
}

var fullInput = []string{
	"EHLO student.test",
	"mail from:<jack@town.test>",
	"RCPT TO:<nobody@mx.test>",
	"RCPT TO: jill@mx.test",
	"DATA",
	"From: jack@town.test",
	"To: jill@mx.test",
	"Subject: water",
	"",
	"Jill, will you fetch a pail of water?",
	".hidden",
	".",
	"QUIT",
}

func TestSMTPSessionGolden(t *testing.T) {
	f := startFake(t, "220 mx.test ESMTP ready", fullSession, nil, false)
	var events []transcript.Event
	var exchanges []Exchange
	out, s, err := runSMTP(t, f, fullInput, func(o *Options, _ *DialOptions) {
		o.Hook = func(e transcript.Event) { events = append(events, e) }
		o.OnExchange = func(e Exchange) { exchanges = append(exchanges, e) }
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out)
	}
	if !s.Ended() {
		t.Error("session did not end after 221")
	}
	if s.Failures() != 1 {
		t.Errorf("Failures() = %d, want 1 (the 550)", s.Failures())
	}
	got := f.lines()
	if !slices.Contains(got, "..hidden") {
		t.Errorf("server did not receive the dot-stuffed line; got %q", got)
	}
	if !slices.Contains(got, "RCPT TO: jill@mx.test") {
		t.Errorf("the student's line was not sent as typed; got %q", got)
	}
	testkit.Golden(t, "testdata/smtp_session.golden", []byte(out))
	if len(exchanges) != 8 { // greeting + 7 awaited commands
		t.Errorf("OnExchange called %d times, want 8", len(exchanges))
	}
	last := exchanges[len(exchanges)-1].Response.Value.(smtp.Reply)
	if last.Code != 221 {
		t.Errorf("last exchange code = %d, want 221", last.Code)
	}
	if len(events) == 0 || events[0].Dir != transcript.Server || events[0].Line != "220 mx.test ESMTP ready" {
		t.Errorf("first event = %+v, want the greeting", events[0])
	}
}

func TestSMTPRecordReplayRoundTrip(t *testing.T) {
	f := startFake(t, "220 mx.test ESMTP ready", fullSession, nil, false)
	var rec bytes.Buffer
	tw, _ := transcript.NewWriter(&rec, transcript.Header{Protocol: "smtp", Host: "mx.test", Port: 2525})
	live, _, err := runSMTP(t, f, fullInput, func(o *Options, _ *DialOptions) {
		o.Hook = func(e transcript.Event) { tw.Write(e.Dir, e.Line) }
	})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := transcript.Read(&rec)
	if err != nil {
		t.Fatalf("reading the recording: %v\n%s", err, rec.String())
	}
	var out bytes.Buffer
	err = Replay(context.Background(), tr, Options{Protocol: NewSMTP(), Render: render.New(&out, render.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	wire := func(s string) []string {
		var l []string
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(line, "C: ") || strings.HasPrefix(line, "S: ") {
				l = append(l, line)
			}
		}
		return l
	}
	if !slices.Equal(wire(live), wire(out.String())) {
		t.Errorf("replay shows other wire lines than the live session:\nlive:\n%s\nreplay:\n%s", live, out.String())
	}
	if !strings.Contains(out.String(), "550 = mailbox unavailable") || !strings.Contains(out.String(), "dot-stuffed") {
		t.Errorf("replay lacks annotations:\n%s", out.String())
	}
	testkit.Golden(t, "testdata/smtp_replay.golden", []byte(out.String()))
}

func TestSMTPServerClosesEarly(t *testing.T) {
	f := startFake(t, "220 mx.test ESMTP", []step{{want: "EHLO", reply: "250 mx.test"}}, nil, false)
	out, _, err := runSMTP(t, f, []string{"EHLO me", "MAIL FROM:<a@b.test>", "QUIT"}, nil)
	if !errors.Is(err, ErrServerClosed) {
		t.Fatalf("err = %v, want ErrServerClosed\n%s", err, out)
	}
	if !strings.Contains(out, "error: the server closed the connection") {
		t.Errorf("no clear message:\n%s", out)
	}
}

func TestSMTPSilentServer(t *testing.T) {
	f := startFake(t, "220 mx.test ESMTP", []step{{want: "EHLO", reply: ""}}, nil, true)
	start := time.Now()
	out, _, err := runSMTP(t, f, []string{"EHLO me", "QUIT"}, func(o *Options, _ *DialOptions) {
		o.ResponseTimeout = 300 * time.Millisecond
	})
	var silent *SilentError
	if !errors.As(err, &silent) {
		t.Fatalf("err = %v, want SilentError\n%s", err, out)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v; the response timeout did not fire", d)
	}
	if !strings.Contains(out, "silent") {
		t.Errorf("output does not say the server is silent:\n%s", out)
	}
}

func TestSMTPInputEndsBeforeQuit(t *testing.T) {
	f := startFake(t, "220 mx.test ESMTP", []step{{want: "EHLO", reply: "250 mx.test"}}, nil, true)
	_, s, err := runSMTP(t, f, []string{"EHLO me"}, nil)
	if !errors.Is(err, ErrInputEnded) || s.Ended() {
		t.Fatalf("err = %v, Ended = %v; want ErrInputEnded, false", err, s.Ended())
	}
}

func TestSMTPNotSMTP(t *testing.T) {
	f := startFake(t, "HTTP/1.1 400 Bad Request", nil, nil, false)
	out, _, err := runSMTP(t, f, []string{"EHLO me"}, nil)
	if err == nil || !strings.Contains(err.Error(), "not an SMTP reply") {
		t.Fatalf("err = %v, want a not-SMTP error\n%s", err, out)
	}
	if !strings.Contains(out, "S: HTTP/1.1 400 Bad Request") {
		t.Errorf("the raw line is not shown:\n%s", out)
	}
}

func TestSMTPStartTLS(t *testing.T) {
	cfg, pool := testCert(t, time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC))
	steps := []step{
		{want: "EHLO", reply: "250-mx.test\n250 STARTTLS"},
		{want: "STARTTLS", reply: "220 2.0.0 Ready to start TLS", tls: true},
		{want: "EHLO", reply: "250-mx.test\n250 AUTH PLAIN LOGIN"},
		{want: "AUTH PLAIN AGJvYgBzZWNyZXQ=", reply: "235 2.7.0 Authentication successful"},
		{want: "QUIT", reply: "221 2.0.0 Bye"},
	}
	f := startFake(t, "220 mx.test ESMTP", steps, cfg, false)
	out, s, err := runSMTP(t, f, []string{"EHLO me", `\tls`, "EHLO me", `\auth plain bob secret`, "QUIT"}, func(_ *Options, d *DialOptions) {
		d.RootCAs = pool
		d.ServerName = "mx.test"
	})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, out)
	}
	if s.Conn().TLSState == nil || s.Conn().TLSMode != "starttls" {
		t.Fatalf("connection not upgraded: %+v", s.Conn())
	}
	for _, want := range []string{"TLS is up: TLS 1.3", "subject:  CN=mx.test,O=mailx test", "certificate verified", "send EHLO again", "235 = authentication succeeded"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestTLSVerificationExplained(t *testing.T) {
	cfg, _ := testCert(t, time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC))
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	ctx := context.Background()
	_, err = Dial(ctx, "127.0.0.1", port, DialOptions{TLS: true, Timeout: 5 * time.Second})
	var ce *ConnError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want ConnError", err)
	}
	msg, hint := ce.Explain()
	if !strings.Contains(msg, "unknown authority") || !strings.Contains(hint, "--insecure") {
		t.Errorf("Explain() = %q, %q", msg, hint)
	}
	c, err := Dial(ctx, "127.0.0.1", port, DialOptions{TLS: true, Insecure: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("--insecure dial: %v", err)
	}
	c.Close()
}

func TestConnectionRefusedExplained(t *testing.T) {
	// A port that was just free and is closed again: nothing listens there.
	_, p, _ := net.SplitHostPort(testkit.FreeAddr(t))
	port, _ := strconv.Atoi(p)
	_, err := Dial(context.Background(), "127.0.0.1", port, DialOptions{Timeout: time.Second})
	var ce *ConnError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	msg, hint := ce.Explain()
	if !strings.Contains(msg, "nothing listens on 127.0.0.1:") || !strings.Contains(hint, "mailx serve") {
		t.Errorf("Explain() = %q, %q", msg, hint)
	}
}
