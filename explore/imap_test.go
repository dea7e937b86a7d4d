package explore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/imap"
	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// gatedInput gives lines like LinesInput, but before a line listed in gates
// it waits until the output shows the gate's text: pushed IDLE updates then
// appear in a fixed order in golden files.
type gatedInput struct {
	lines []string
	gates map[int]string
	out   *testkit.Buffer
	next  int
}

func (in *gatedInput) ReadLine(string) (string, error) {
	if in.next >= len(in.lines) {
		return "", errorsEOF
	}
	if want, ok := in.gates[in.next]; ok {
		// Wait for the output the next line depends on; if it never comes,
		// end the session with an error the test reports, rather than type
		// the line anyway and let the test pass or fail by chance.
		if !testkit.Poll(30*time.Second, func() bool { return strings.Contains(in.out.String(), want) }) {
			return "", fmt.Errorf("test input: %q never appeared before line %d (%q):\n%s", want, in.next+1, in.lines[in.next], in.out.String())
		}
	}
	in.next++
	return in.lines[in.next-1], nil
}

func (in *gatedInput) Interactive() bool { return false }

// runIMAP runs a scripted IMAP session and returns its plain output.
func runIMAP(t *testing.T, f *fakeServer, lines []string, gates map[int]string, mod func(*Options, *DialOptions)) (string, *Session, error) {
	t.Helper()
	out := &testkit.Buffer{}
	_, s, err := runSMTP(t, f, nil, func(o *Options, d *DialOptions) {
		o.Protocol = NewIMAP()
		o.Render = render.New(out, render.Options{})
		o.Input = &gatedInput{lines: lines, gates: gates, out: out}
		if mod != nil {
			mod(o, d)
		}
	})
	return out.String(), s, err
}

const imapMessage = "From: bob@hamburger.test\r\nSubject: lunch\r\n\r\nCrepes at noon?\r\n"

func imapSteps() []step {
	return []step{
		{want: "a001 LOGIN alice hungry", reply: "a001 OK [CAPABILITY IMAP4rev1 IDLE MOVE UIDPLUS] Logged in"},
		{want: "a002 SELECT INBOX", reply: "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\n* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Flags permitted.\n* 2 EXISTS\n* 0 RECENT\n* OK [UIDVALIDITY 1700000000] UIDs valid\n* OK [UIDNEXT 3] Predicted next UID\na002 OK [READ-WRITE] Select completed"},
		{want: "a003 FETCH 1 (FLAGS BODY[])", reply: "* 1 FETCH (FLAGS (\\Seen) BODY[] {" + strconv.Itoa(len(imapMessage)) + "}\n" + strings.TrimSuffix(strings.ReplaceAll(imapMessage, "\r\n", "\n"), "\n") + "\n)\na003 OK Fetch completed"},
		{want: "t1 SEARCH UNSEEN", reply: "* SEARCH 2\nt1 OK Search completed"},
		{want: "a004 APPEND INBOX {21}", reply: "+ Ready for literal data"},
		{want: "Subject: x", reply: ""},
		{want: "", reply: ""},
		{want: "hello", reply: ""},
		{want: "", reply: "a004 OK [APPENDUID 1700000000 3] Append completed"},
		{want: "a005 COPY 1 Archive", reply: "a005 NO [TRYCREATE] Mailbox doesn't exist: Archive"},
		{want: "a006 FROB", reply: "a006 BAD Error in IMAP command FROB: Unknown command."},
		{want: "a007 IDLE", reply: "+ idling\n* 3 EXISTS\n* 1 RECENT"},
		{want: "DONE", reply: "a007 OK Idle completed."},
		{want: "a008 LOGOUT", reply: "* BYE Logging out\na008 OK Logout completed."},
	}
}

func imapLines() []string {
	return []string{"LOGIN alice hungry", "SELECT INBOX", "FETCH 1 (FLAGS BODY[])", "t1 SEARCH UNSEEN",
		"APPEND INBOX {21}", "Subject: x", "", "hello", "", "COPY 1 Archive", "FROB", "IDLE", "DONE", "LOGOUT"}
}

func TestIMAPSessionGolden(t *testing.T) {
	f := startFake(t, "* OK [CAPABILITY IMAP4rev1 IDLE AUTH=PLAIN] mx.test ready", imapSteps(), nil, false)
	var rec bytes.Buffer
	out, s, err := runIMAP(t, f, imapLines(), map[int]string{12: "1 message(s) are new"}, func(o *Options, _ *DialOptions) {
		tw, _ := transcript.NewWriter(&rec, transcript.Header{Protocol: "imap", Host: "mx.test", Port: 143})
		o.Hook = func(e transcript.Event) { tw.Write(e.Dir, e.Line) }
	})
	if err != nil {
		t.Fatalf("session: %v\n%s", err, out)
	}
	if !s.Ended() {
		t.Error("session did not end with LOGOUT")
	}
	if got := s.Last().Payload; got != "" {
		t.Errorf("LOGOUT payload = %q", got)
	}
	testkit.Golden(t, "testdata/imap_session.golden", []byte(out))

	tr, err := transcript.Read(&rec)
	if err != nil {
		t.Fatal(err)
	}
	var replay bytes.Buffer
	if err := Replay(context.Background(), tr, Options{Protocol: NewIMAP(), Render: render.New(&replay, render.Options{})}); err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "testdata/imap_replay.golden", []byte(replay.String()))
	for _, want := range []string{"S: * 1 FETCH (FLAGS (\\Seen) BODY[] {" + strconv.Itoa(len(imapMessage)) + "}", "S: Crepes at noon?", "C: DONE", "a007 OK: IDLE ended"} {
		if !strings.Contains(replay.String(), want) {
			t.Errorf("replay lacks %q", want)
		}
	}
}

func TestIMAPLiteralPlusAndInlineLiteral(t *testing.T) {
	f := startFake(t, "* OK [CAPABILITY IMAP4rev1 LITERAL+] ready", []step{
		{want: "a001 LOGIN {5+}", reply: ""},
		{want: "alice {6+}", reply: ""},
		{want: "hungry", reply: "a001 OK Logged in"},
		{want: "a002 LOGOUT", reply: "* BYE\na002 OK bye"},
	}, nil, false)
	out, s, err := runIMAP(t, f, []string{"LOGIN {5}", "alice {6}", "hungry", "LOGOUT"}, nil, nil)
	if err != nil {
		t.Fatalf("session: %v\n%s", err, out)
	}
	if got := f.lines(); strings.Join(got, "|") != "a001 LOGIN {5+}|alice {6+}|hungry|a002 LOGOUT" {
		t.Errorf("wire = %q", got)
	}
	for _, want := range []string{"offers LITERAL+", "the first 5 octets of this line complete the literal"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if p := s.Protocol().(*IMAP); p.State() != imap.Logout {
		t.Errorf("state = %v", p.State())
	}
}

func TestIMAPLiteralLineTooLongIsNotSent(t *testing.T) {
	p := NewIMAP()
	p.greeted = true
	out := p.Prepare("APPEND INBOX {10}")
	if !out.Await || p.Mode() != ModeCommand {
		t.Fatalf("sync literal must wait for +: %+v", out)
	}
	r := &Response{Value: []imap.Response{imap.Parse("+ go")}}
	r.AddLine("+ go", false)
	p.Annotate(r)
	if p.Mode() != ModeData || p.Prompt() != "imap:literal(10)" {
		t.Fatalf("after +: mode %v prompt %q", p.Mode(), p.Prompt())
	}
	if out := p.Prepare("123456789"); len(out.Lines) != 0 {
		t.Errorf("a line of 9+2 octets into 10 left was sent: %+v", out)
	}
	if out := p.Prepare("12345678"); len(out.Lines) != 1 || out.Await || p.Prompt() != "imap:command-rest" {
		t.Errorf("8+2 octets should complete the literal: %+v, prompt %q", out, p.Prompt())
	}
	if out := p.Prepare(""); !out.Await || p.Mode() != ModeCommand {
		t.Errorf("empty line should end the command: %+v", out)
	}
}

func TestIMAPEarlyCloseAndSilence(t *testing.T) {
	f := startFake(t, "* OK ready", []step{
		{want: "a001 LOGIN", reply: "* 1 FETCH (BODY[] {100}\npartial"},
	}, nil, false)
	out, s, err := runIMAP(t, f, []string{"LOGIN a b"}, nil, nil)
	if !errors.Is(err, ErrServerClosed) || s.Ended() || !strings.Contains(out, "S: partial") {
		t.Errorf("early close: err %v\n%s", err, out)
	}

	f = startFake(t, "* OK ready", []step{{want: "a001 NOOP", reply: "* 1 EXISTS"}}, nil, true)
	out, _, err = runIMAP(t, f, []string{"NOOP"}, nil, func(o *Options, _ *DialOptions) { o.ResponseTimeout = 300 * time.Millisecond })
	var silent *SilentError
	if !errors.As(err, &silent) || !strings.Contains(out, "S: * 1 EXISTS") {
		t.Errorf("silence after an untagged line: err %v\n%s", err, out)
	}
}

func TestIMAPByeClosesSession(t *testing.T) {
	f := startFake(t, "* OK ready", []step{{want: "a001 NOOP", reply: "* BYE server shutting down"}}, nil, false)
	out, s, err := runIMAP(t, f, []string{"NOOP", "NOOP"}, nil, nil)
	if err != nil || !s.Ended() || !strings.Contains(out, "* BYE: the server is closing") {
		t.Errorf("BYE: err %v ended %v\n%s", err, s.Ended(), out)
	}
}

func TestIMAPAuthAndAppendMeta(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/note.eml"
	if err := writeFile(file, "Subject: x\n\nhello\n"); err != nil {
		t.Fatal(err)
	}
	f := startFake(t, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready", []step{
		{want: "a001 AUTHENTICATE PLAIN", reply: "+ "},
		{want: "AGFsaWNlAGh1bmdyeQ==", reply: "a001 OK [CAPABILITY IMAP4rev1] Logged in"},
		{want: "a002 APPEND INBOX {21}", reply: "+ go ahead"},
		{want: "Subject: x", reply: ""}, {want: "", reply: ""}, {want: "hello", reply: ""},
		{want: "", reply: "a002 OK Append completed"},
		{want: "a003 LOGOUT", reply: "* BYE\na003 OK"},
	}, nil, false)
	out, _, err := runIMAP(t, f, []string{`\auth plain alice hungry`, `\append INBOX ` + file, "LOGOUT"}, nil, nil)
	if err != nil {
		t.Fatalf("session: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Decoded, it reads \"\\x00alice\\x00hungry\"") {
		t.Errorf("SASL answer not explained:\n%s", out)
	}
}

// TestIMAPNotIMAP: a greeting that is not "* OK", "* PREAUTH" or "* BYE"
// (here a POP3 server's) ends the session at once with a ProtocolError that
// points at the port, instead of sending commands and timing out.
func TestIMAPNotIMAP(t *testing.T) {
	f := startFake(t, "+OK POP3 ready", nil, nil, false)
	out, _, err := runIMAP(t, f, []string{"LOGIN alice hungry"}, nil, nil)
	var pe *ProtocolError
	if !errors.As(err, &pe) || !pe.Greeting || pe.Proto != "imap" || !strings.Contains(err.Error(), "is this an IMAP server?") {
		t.Fatalf("err = %#v, want a ProtocolError about the greeting\n%s", err, out)
	}
	if msg, hint := pe.Explain(); !strings.Contains(msg, "greeted with something that is not IMAP") || !strings.Contains(hint, "143") {
		t.Errorf("Explain() = %q, %q", msg, hint)
	}
	if strings.Contains(out, "C: ") {
		t.Errorf("a command was sent to a server that is not IMAP:\n%s", out)
	}
}
