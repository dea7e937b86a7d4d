package explore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/pop3"
	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// runPOP3 runs a scripted POP3 session against the fake server.
func runPOP3(t *testing.T, f *fakeServer, lines []string, mod func(*Options, *DialOptions)) (string, *Session, error) {
	t.Helper()
	return runSMTP(t, f, lines, func(o *Options, d *DialOptions) {
		o.Protocol = NewPOP3()
		if mod != nil {
			mod(o, d)
		}
	})
}

const pop3Greeting = "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>"

// pop3Msg1 has a line starting with "." and one holding only ".", which the
// server must byte-stuff.
var pop3Msg1 = "+OK 120 octets\nFrom: bob@hamburger.test\nTo: alice@crepes.test\nSubject: lunch\n\nCrepes at noon?\n..\n..hidden dot\n."

// seedPOP3 is the course's POP3 session: list, retrieve and delete two
// messages, then QUIT.
func seedPOP3() []step {
	return []step{
		{want: "user alice", reply: "+OK"},
		{want: "pass hungry", reply: "+OK user successfully logged on"},
		{want: "list", reply: "+OK 2 messages\n1 498\n2 912\n."},
		{want: "retr 1", reply: pop3Msg1},
		{want: "dele 1", reply: "+OK message 1 deleted"},
		{want: "retr 2", reply: "+OK\nSubject: second\n\nHello again.\n."},
		{want: "dele 2", reply: "+OK message 2 deleted"},
		{want: "quit", reply: "+OK POP3 server signing off"},
	}
}

func seedLines() []string {
	return []string{"user alice", "pass hungry", "list", "retr 1", "dele 1", "retr 2", "dele 2", "quit"}
}

func TestPOP3SeedSessionGolden(t *testing.T) {
	f := startFake(t, pop3Greeting, seedPOP3(), nil, false)
	var rec bytes.Buffer
	out, s, err := runPOP3(t, f, seedLines(), func(o *Options, _ *DialOptions) {
		tw, _ := transcript.NewWriter(&rec, transcript.Header{Protocol: "pop3", Host: "mx.test", Port: 110})
		o.Hook = func(e transcript.Event) { tw.Write(e.Dir, e.Line) }
	})
	if err != nil {
		t.Fatalf("session: %v\n%s", err, out)
	}
	if !s.Ended() {
		t.Error("session did not end with QUIT")
	}
	p := s.Protocol().(*POP3)
	if p.State() != pop3.Closed {
		t.Errorf("state after QUIT = %v, want closed", p.State())
	}
	msg, ok := p.Message("1")
	if !ok || !strings.Contains(msg, "\r\n.\r\n.hidden dot\r\n") {
		t.Errorf("retrieved message 1 = %q: stuffing not undone", msg)
	}
	testkit.Golden(t, "testdata/pop3_seed.golden", []byte(out))

	// Replaying the recording shows the same annotated session.
	tr, err := transcript.Read(&rec)
	if err != nil {
		t.Fatal(err)
	}
	var replay bytes.Buffer
	if err := Replay(context.Background(), tr, Options{Protocol: NewPOP3(), Render: render.New(&replay, render.Options{})}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(replay.String(), strings.SplitN(out, "\n", 2)[1]) {
		t.Errorf("replay differs from the live session:\n--- replay ---\n%s\n--- live ---\n%s", replay.String(), out)
	}
}

func TestPOP3ErrorsAndHelpers(t *testing.T) {
	f := startFake(t, pop3Greeting, []step{
		{want: "RETR 1", reply: "-ERR Log in first"},
		{want: "APOP alice c4c9334bac560ecc979e58001b3e22fb", reply: "-ERR [IN-USE] maildrop already locked"},
		{want: "AUTH PLAIN AGFsaWNlAGh1bmdyeQ==", reply: "+OK logged in"},
		{want: "CAPA", reply: "+OK\nTOP\nUIDL\nSASL PLAIN\nRESP-CODES\n."},
		{want: "TOP 1 0", reply: "+OK\nSubject: hi\n\n."},
		{want: "RSET", reply: "+OK"},
		{want: "QUIT", reply: "+OK bye"},
	}, nil, false)
	out, s, err := runPOP3(t, f, []string{"RETR 1", `\apop alice tanstaaf`, `\auth plain alice hungry`, "CAPA", "TOP 1 0", `\view 1`, "RSET", "QUIT"}, nil)
	if err != nil {
		t.Fatalf("session: %v\n%s", err, out)
	}
	if s.Failures() != 2 {
		t.Errorf("failures = %d, want 2 (-ERR twice)", s.Failures())
	}
	testkit.Golden(t, "testdata/pop3_errors.golden", []byte(out))
}

func TestPOP3ViewAfterRetr(t *testing.T) {
	msg := "+OK\nFrom: bob@hamburger.test\nSubject: =?UTF-8?Q?caf=C3=A9?=\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nCaf=C3=A9 at noon\n--b1\nContent-Type: application/pdf; name=menu.pdf\nContent-Disposition: attachment; filename=menu.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--b1--\n."
	f := startFake(t, pop3Greeting, []step{
		{want: "USER", reply: "+OK"}, {want: "PASS", reply: "+OK"},
		{want: "RETR 1", reply: msg}, {want: "QUIT", reply: "+OK"},
	}, nil, false)
	out, _, err := runPOP3(t, f, []string{"USER alice", "PASS hungry", `\view 2`, "RETR 1", `\view 1`, "QUIT"}, nil)
	if err != nil {
		t.Fatalf("session: %v\n%s", err, out)
	}
	for _, want := range []string{"RETR 2 first", "== Message 1: 399 bytes", "    decoded: café", "  1  text/plain; charset=utf-8  quoted-printable", "| Café at noon", `attachment "menu.pdf"`, `\print 1 shows the message as retrieved`} {
		if !strings.Contains(out, want) {
			t.Errorf("\\view output lacks %q:\n%s", want, out)
		}
	}
}

func TestPOP3EarlyCloseInMultiLine(t *testing.T) {
	f := startFake(t, pop3Greeting, []step{
		{want: "USER", reply: "+OK"}, {want: "PASS", reply: "+OK"},
		{want: "LIST", reply: "+OK\n1 100"}, // the server closes before "."
	}, nil, false)
	out, s, err := runPOP3(t, f, []string{"USER a", "PASS b", "LIST", "QUIT"}, nil)
	if !errors.Is(err, ErrServerClosed) {
		t.Fatalf("err = %v, want ErrServerClosed\n%s", err, out)
	}
	if !strings.Contains(out, "S: 1 100") || s.Ended() {
		t.Errorf("partial response not shown, or session counted as ended:\n%s", out)
	}
	if p := s.Protocol().(*POP3); p.State() != pop3.Transaction {
		t.Errorf("state = %v; a dropped connection never reaches UPDATE", p.State())
	}
}

func TestPOP3SilentServer(t *testing.T) {
	f := startFake(t, pop3Greeting, []step{{want: "USER", reply: ""}}, nil, true)
	out, _, err := runPOP3(t, f, []string{"USER alice"}, func(o *Options, _ *DialOptions) { o.ResponseTimeout = 300 * time.Millisecond })
	var silent *SilentError
	if !errors.As(err, &silent) {
		t.Fatalf("err = %v, want SilentError\n%s", err, out)
	}
}

func TestPOP3NotPOP3(t *testing.T) {
	f := startFake(t, "220 mx.test ESMTP", nil, nil, false)
	out, _, err := runPOP3(t, f, nil, nil)
	var pe *ProtocolError
	if !errors.As(err, &pe) || !pe.Greeting || !strings.Contains(err.Error(), "is this a POP3 server?") || !strings.Contains(out, "S: 220 mx.test ESMTP") {
		t.Errorf("err = %v, want a ProtocolError about the greeting\n%s", err, out)
	}
}

func TestPOP3STLS(t *testing.T) {
	cfg, pool := testCert(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	f := startFake(t, "+OK ready", []step{
		{want: "STLS", reply: "+OK Begin TLS negotiation", tls: true},
		{want: "CAPA", reply: "+OK\nUSER\n."},
		{want: "QUIT", reply: "+OK"},
	}, cfg, false)
	out, s, err := runPOP3(t, f, []string{`\tls`, "CAPA", "QUIT"}, func(o *Options, d *DialOptions) { d.RootCAs = pool })
	if err != nil {
		t.Fatalf("session: %v\n%s", err, out)
	}
	if s.Conn().TLSState == nil || !strings.Contains(out, "still in the AUTHORIZATION state, now inside TLS") {
		t.Errorf("no TLS after STLS:\n%s", out)
	}
}

func TestPOP3FoldsLongMessages(t *testing.T) {
	var body []string
	for i := 1; i <= 50; i++ {
		body = append(body, "line "+strconv.Itoa(i))
	}
	f := startFake(t, pop3Greeting, []step{
		{want: "RETR 1", reply: "+OK\nSubject: long\n\n" + strings.Join(body, "\n") + "\n."},
		{want: "QUIT", reply: "+OK"},
	}, nil, false)
	var rec bytes.Buffer
	out, _, err := runPOP3(t, f, []string{"RETR 1", `\print 1`, "QUIT"}, func(o *Options, _ *DialOptions) {
		o.Protocol.(*POP3).SetFold(10)
		o.Hook = func(e transcript.Event) { rec.WriteString(e.Line + "\n") }
	})
	if err != nil {
		t.Fatalf("session: %v\n%s", err, out)
	}
	for _, want := range []string{"S: line 10\n", "... 40 more body lines not shown (the message has 52 lines)", "\\print 1 shows the whole message", "== message 1: 52 lines", "\nline 50\n", "S: .\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "S: line 11\n") {
		t.Errorf("line 11 should be folded:\n%s", out)
	}
	if !strings.Contains(rec.String(), "line 50\n") {
		t.Error("a folded line was not recorded")
	}
}

// TestPOP3ViewBounce: \view of a retrieved bounce shows its delivery-status
// fields, explained, instead of calling the part a nesting problem.
func TestPOP3ViewBounce(t *testing.T) {
	b, err := os.ReadFile("../proto/mime/testdata/bounces/postfix.eml")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.ReplaceAll(string(b), "\r\n", "\n")
	body = strings.ReplaceAll("\n"+body, "\n.", "\n..")[1:] // byte-stuffing
	f := startFake(t, pop3Greeting, []step{
		{want: "USER", reply: "+OK"}, {want: "PASS", reply: "+OK"},
		{want: "RETR 1", reply: "+OK\n" + strings.TrimSuffix(body, "\n") + "\n."}, {want: "QUIT", reply: "+OK"},
	}, nil, false)
	out, _, err := runPOP3(t, f, []string{"USER alice", "PASS hungry", "RETR 1", `\view 1`, "QUIT"}, nil)
	if err != nil {
		t.Fatalf("session: %v\n%s", err, out)
	}
	view := out[strings.Index(out, "== Message 1"):]
	for _, want := range []string{"Reporting-MTA: mail.example.org", "Final-Recipient: bob@example.net", "Action: failed", "Status: 5.1.1  (permanent failure: the mailbox does not exist)", "Diagnostic-Code: smtp; 550 5.1.1"} {
		if !strings.Contains(view, want) {
			t.Errorf("\\view lacks %q:\n%s", want, view)
		}
	}
	if strings.Contains(view, "nesting depth") || strings.Contains(view, "warning") {
		t.Errorf("\\view warns about a sound bounce:\n%s", view)
	}
}
