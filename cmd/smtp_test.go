package cmd

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/mx/mxtest"
	"github.com/mailx-edu/mailx/proto/testkit"
)

// fakeMTA is a small SMTP server in the test process on 127.0.0.1:0: enough
// of RFC 5321 to exercise talk and send, with a recipient that is refused.
type fakeMTA struct {
	addr     string
	mu       sync.Mutex
	messages []string // message text, dot-stuffing undone
}

func (f *fakeMTA) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.messages...)
}

func startFakeMTA(t *testing.T) *fakeMTA {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeMTA{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); f.serve(c) }()
		}
	}()
	return f
}

func (f *fakeMTA) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	say := func(lines ...string) {
		for _, l := range lines {
			c.Write([]byte(l + "\r\n"))
		}
	}
	say("220 mx.test ESMTP fake")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		switch verb {
		case "EHLO":
			say("250-mx.test", "250-PIPELINING", "250-SIZE 1000000", "250 ENHANCEDSTATUSCODES")
		case "HELO":
			say("250 mx.test")
		case "MAIL":
			say("250 2.1.0 Ok")
		case "RCPT":
			if strings.Contains(line, "unknown") {
				say("550 5.1.1 <unknown@mx.test>: Recipient address rejected: User unknown")
			} else {
				say("250 2.1.5 Ok")
			}
		case "DATA":
			say("354 End data with <CR><LF>.<CR><LF>")
			var msg strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				l = strings.TrimRight(l, "\r\n")
				if l == "." {
					break
				}
				msg.WriteString(strings.TrimPrefix(l, ".") + "\n")
			}
			f.mu.Lock()
			f.messages = append(f.messages, msg.String())
			f.mu.Unlock()
			say("250 2.0.0 Ok: queued as FAKE4711")
		case "RSET", "NOOP":
			say("250 2.0.0 Ok")
		case "QUIT":
			say("221 2.0.0 Bye")
			return
		default:
			say("500 5.5.2 Error: command not recognized")
		}
	}
}

var portRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)

func runMailx(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ios, out, errOut := TestIO(stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := run(ctx, args, ios)
	return out.String(), errOut.String(), code
}

const labSession = "EHLO student.test\nMAIL FROM:<jack@town.test>\nRCPT TO:<unknown@mx.test>\nRCPT TO:jill@mx.test\nDATA\nSubject: water\n\nJill, fetch a pail?\n.hidden\n.\nQUIT\n"

func TestSMTPTalkFlags(t *testing.T) {
	var got *smtpTalkOptions
	ios, _, _ := TestIO("")
	c := newSMTPTalkCmd(ios, func(_ context.Context, o *smtpTalkOptions) error { got = o; return nil })
	c.SetArgs([]string{"mx.test:2525", "--starttls", "--insecure", "--record", "x.txt", "--strict", "--explain=false", "--response-timeout", "5s"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Addr != "mx.test:2525" || !got.Conn.StartTLS || !got.Conn.Insecure || got.Record != "x.txt" || !got.Strict || got.Explain || got.Conn.ResponseTimeout != 5*time.Second {
		t.Errorf("options = %+v", got)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"smtp", "talk"}, "missing HOST[:PORT]"},
		{[]string{"smtp", "talk", "a", "--tls", "--starttls"}, "cannot be combined"},
		{[]string{"smtp", "talk", "a", "--mx", "b.test"}, "both HOST and --mx"},
		{[]string{"smtp", "talk", "mx.test:abc"}, "the port is not a number"},
		{[]string{"smtp", "talk", "a:99999"}, "not a number from 1 to 65535"},
		{[]string{"smtp", "send", "--server", "a"}, "--from and --to are required"},
		{[]string{"smtp", "send", "--from", "a@b.test", "--to", "c@d.test"}, "missing --server"},
		{[]string{"smtp", "send", "--server", "a", "--from", "a@b.test", "--to", "c@d.test", "--header", "bad"}, "not 'Name: value'"},
		{[]string{"smtp", "send", "--server", "a", "--from", "alice", "--to", "c@d.test"}, `--from "alice" is not an e-mail address`},
		{[]string{"smtp", "send", "--server", "a", "--from", "a@b.test", "--to", "c@d.test", "--to", "<oops"}, `--to "<oops" is not an e-mail address`},
		{[]string{"smtp", "talk", "a", "--timeout", "0s"}, "must be positive"},
		{[]string{"smtp", "replay"}, "exactly one of"},
		{[]string{"smtp", "replay", "--example", "nope"}, `no example called "nope"`},
	} {
		_, stderr, code := runMailx(t, "", tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("mailx %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

func TestSMTPTalkPipe(t *testing.T) {
	f := startFakeMTA(t)
	out, stderr, code := runMailx(t, labSession, "smtp", "talk", f.addr)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr, out)
	}
	testkit.Golden(t, "testdata/smtp/talk_pipe.golden", []byte(portRE.ReplaceAllString(out, "127.0.0.1:PORT")))
	msgs := f.got()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "\n.hidden\n") {
		t.Errorf("server stored %q; want one message with the line .hidden", msgs)
	}

	// --strict turns the 550 into a failure; --quiet drops the notes.
	out, stderr, code = runMailx(t, labSession, "smtp", "talk", f.addr, "--strict", "--quiet")
	if code != 1 || !strings.Contains(stderr, "1 command got a failure response (--strict)") {
		t.Errorf("--strict: exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(out, "note:") || !strings.Contains(out, "warning:") {
		t.Errorf("--quiet output should keep warnings only:\n%s", out)
	}
}

func TestSMTPTalkJSON(t *testing.T) {
	f := startFakeMTA(t)
	out, _, code := runMailx(t, "EHLO me\nQUIT\n", "smtp", "talk", f.addr, "--json")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !strings.Contains(out, `{"dir":"S","line":"220 mx.test ESMTP fake","code":"220","notes":[{"summary":"220 = service ready`) ||
		!strings.Contains(out, `{"dir":"C","line":"EHLO me","notes":[`) {
		t.Errorf("JSON lines lack dir/line/code/notes:\n%s", out)
	}
}

func TestSMTPTalkFailures(t *testing.T) {
	f := startFakeMTA(t)
	_, stderr, code := runMailx(t, "EHLO me\n", "smtp", "talk", f.addr)
	if code != 1 || !strings.Contains(stderr, "the input ended before QUIT") {
		t.Errorf("script without QUIT: exit %d, stderr %q", code, stderr)
	}
	closed := testkit.FreeAddr(t) // nothing listens there
	_, stderr, code = runMailx(t, "QUIT\n", "smtp", "talk", closed)
	if code != 1 || !strings.Contains(stderr, "nothing listens on "+closed) || !strings.Contains(stderr, "mailx serve") {
		t.Errorf("refused: exit %d, stderr %q", code, stderr)
	}
	_, stderr, code = runMailx(t, "", "smtp", "talk", f.addr, "--script", filepath.Join(t.TempDir(), "missing.txt"))
	if code != 1 || !strings.Contains(stderr, "cannot read the script") {
		t.Errorf("missing script: exit %d, stderr %q", code, stderr)
	}
}

func TestSMTPTalkRecordThenReplay(t *testing.T) {
	f := startFakeMTA(t)
	rec := filepath.Join(t.TempDir(), "lab.transcript")
	script := filepath.Join(t.TempDir(), "lab.txt")
	os.WriteFile(script, []byte(labSession), 0o644)
	live, _, code := runMailx(t, "", "smtp", "talk", f.addr, "--script", script, "--record", rec)
	if code != 0 {
		t.Fatalf("talk exit %d\n%s", code, live)
	}
	b, _ := os.ReadFile(rec)
	if !strings.HasPrefix(string(b), "# mailx transcript v1\n# protocol: smtp\n# host: 127.0.0.1\n") || !strings.Contains(string(b), "C: ..hidden\n") {
		t.Errorf("record file:\n%s", b)
	}
	replayed, stderr, code := runMailx(t, "", "smtp", "replay", rec)
	if code != 0 {
		t.Fatalf("replay exit %d: %s", code, stderr)
	}
	wire := func(s string) string {
		var b strings.Builder
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "C: ") || strings.HasPrefix(l, "S: ") {
				b.WriteString(l + "\n")
			}
		}
		return b.String()
	}
	if wire(live) != wire(replayed) {
		t.Errorf("replay differs from the live session:\n%s\n---\n%s", wire(live), wire(replayed))
	}
}

func TestSMTPReplayExamples(t *testing.T) {
	out, _, code := runMailx(t, "", "smtp", "replay", "--list")
	if code != 0 || !strings.Contains(out, "hill") || !strings.Contains(out, "crepes") {
		t.Fatalf("--list: exit %d\n%s", code, out)
	}
	for _, name := range []string{"hill", "crepes", "modern"} {
		out, stderr, code := runMailx(t, "", "smtp", "replay", "--example", name)
		if code != 0 {
			t.Fatalf("%s: exit %d %s", name, code, stderr)
		}
		testkit.Golden(t, "testdata/smtp/replay_"+name+".golden", []byte(out))
	}
}

func TestSMTPSend(t *testing.T) {
	f := startFakeMTA(t)
	dir := t.TempDir()
	att := filepath.Join(dir, "note.txt")
	os.WriteFile(att, []byte("attached text\n"), 0o644)
	out, stderr, code := runMailx(t, "", "smtp", "send", "--server", f.addr, "--from", "alice@crepes.test",
		"--to", "bob@hamburger.test", "--to", "unknown@mx.test", "--subject", "Crêpes", "--body", "Hello Bob\n.hidden\n.\nbye",
		"--attach", att, "--header", "X-Lab: 1", "--helo", "client.test")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr, out)
	}
	if !strings.Contains(out, "ok: the message was accepted by 127.0.0.1:") || !strings.Contains(out, "queue id FAKE4711") {
		t.Errorf("no success line with the queue id:\n%s", out)
	}
	if !strings.Contains(out, "not sent to: unknown@mx.test") {
		t.Errorf("the refused recipient is not reported:\n%s", out)
	}
	msgs := f.got()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages", len(msgs))
	}
	for _, want := range []string{"From: alice@crepes.test", "Subject: =?utf-8?", "X-Lab: 1", "Message-ID: <", "multipart/mixed", "\n.hidden\n.\nbye", "note.txt"} {
		if !strings.Contains(msgs[0], want) {
			t.Errorf("message lacks %q:\n%s", want, msgs[0])
		}
	}
	_, stderr, code = runMailx(t, "", "smtp", "send", "--server", f.addr, "--from", "a@b.test", "--to", "unknown@mx.test", "--body", "x")
	if code != 1 || !strings.Contains(stderr, "every recipient was refused") {
		t.Errorf("all refused: exit %d, stderr %q", code, stderr)
	}
}

// TestSMTPBinaryThroughPipe drives the built binary as a lab script would:
// printf '...' | mailx smtp talk HOST.
func TestSMTPBinaryThroughPipe(t *testing.T) {
	bin := buildBinary(t)
	f := startFakeMTA(t)
	cmd := exec.Command(bin, "smtp", "talk", f.addr)
	cmd.Stdin = strings.NewReader(labSession)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s\n%s", err, errOut.String(), out.String())
	}
	if strings.Contains(out.String(), "\x1b[") {
		t.Error("colour escapes in piped output")
	}
	if !strings.Contains(out.String(), "C: ..hidden") || !strings.Contains(out.String(), "S: 221 2.0.0 Bye") {
		t.Errorf("output:\n%s", out.String())
	}
	cmd = exec.Command(bin, "smtp", "talk", f.addr)
	cmd.Stdin = strings.NewReader("EHLO me\n")
	errOut.Reset()
	cmd.Stderr = &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(errOut.String(), "mailx: the input ended before QUIT") {
		t.Errorf("without QUIT: %v, stderr %q", err, errOut.String())
	}
}

// TestSMTPAgainstPostfixSmtpSink talks to Postfix's smtp-sink, a real SMTP
// server nobody here wrote, and checks dot-stuffing end to end in its dump.
func TestSMTPAgainstPostfixSmtpSink(t *testing.T) {
	sink := "/usr/sbin/smtp-sink" // not on a user's PATH
	if _, err := os.Stat(sink); err != nil {
		sink = testkit.NeedCommand(t, "smtp-sink", "postfix")
	}
	// smtp-sink drops root privileges to nobody, who cannot enter t.TempDir()'s
	// private parent, so the dump directory lives directly under the temp root.
	dir, err := os.MkdirTemp("", "mailx-smtp-sink-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o777)
	addr := testkit.FreeAddr(t)
	args := []string{"-d", filepath.Join(dir, "msg.%M.")}
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "nobody"}, args...)
	}
	peer := testkit.StartPeer(t, addr, exec.Command(sink, append(args, addr, "10")...))

	out, stderr, code := runMailx(t, labSession, "smtp", "talk", addr)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s\nsmtp-sink: %s", code, stderr, out, peer.Output())
	}
	if !strings.Contains(out, "XFORWARD") || !strings.Contains(out, "Postfix extension") {
		t.Errorf("smtp-sink's EHLO keywords not explained:\n%s", out)
	}
	var dump []byte
	testkit.Eventually(t, 30*time.Second, func() bool {
		files, _ := filepath.Glob(filepath.Join(dir, "msg.*"))
		if len(files) == 1 {
			dump, _ = os.ReadFile(files[0])
		}
		return bytes.Contains(dump, []byte("fetch a pail?"))
	}, "smtp-sink did not store the whole message: %q", testkit.Later(func() any { return dump }))
	if !bytes.Contains(dump, []byte("\n.hidden\n")) || bytes.Contains(dump, []byte("..hidden")) {
		t.Errorf("smtp-sink stored:\n%s\nwant the line .hidden exactly", dump)
	}
}

// aiosmtpdServer is a Python script running aiosmtpd on a socket it binds
// itself (port 0, so no race), printing the port and then each message.
const aiosmtpdServer = `
import asyncio, socket, sys
from aiosmtpd.smtp import SMTP
class Handler:
    async def handle_DATA(self, server, session, envelope):
        with open(sys.argv[1], "ab") as f:
            f.write(envelope.content)
        return "250 2.0.0 Ok: queued as AIO12345"
async def main():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: SMTP(Handler(), hostname="aio.test"), sock=sock)
    print(sock.getsockname()[1], flush=True)
    await srv.serve_forever()
asyncio.run(main())
`

// TestSMTPSendAgainstAiosmtpd sends with `mailx smtp send` to Python's
// aiosmtpd and checks what it stored, dot-stuffed line included.
func TestSMTPSendAgainstAiosmtpd(t *testing.T) {
	py := ""
	for _, cand := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(cand, "-c", "import aiosmtpd").Run() == nil {
			py = cand
			break
		}
	}
	if py == "" {
		t.Skip("aiosmtpd not installed (Debian package python3-aiosmtpd)")
	}
	store := filepath.Join(t.TempDir(), "stored.eml")
	cmd := exec.Command(py, "-c", aiosmtpdServer, store)
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	portc := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		portc <- strings.TrimSpace(line)
	}()
	var port string
	select {
	case port = <-portc:
	case <-time.After(15 * time.Second):
		t.Fatal("aiosmtpd did not start within 15s")
	}
	if port == "" {
		t.Fatal("aiosmtpd exited before listening")
	}
	out, stderr, code := runMailx(t, "", "smtp", "send", "--server", "127.0.0.1:"+port, "--from", "alice@crepes.test",
		"--to", "bob@hamburger.test", "--subject", "dots", "--body", "first\n.hidden\n.\n..two\nlast")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	if !strings.Contains(out, "queue id AIO12345") {
		t.Errorf("queue id not printed:\n%s", out)
	}
	b, _ := os.ReadFile(store)
	body := strings.ReplaceAll(string(b), "\r\n", "\n")
	if !strings.Contains(body, "\nfirst\n.hidden\n.\n..two\nlast") {
		t.Errorf("aiosmtpd stored:\n%s\nwant the body lines unchanged", body)
	}
}

// TestSMTPTalkMX follows --mx as an MTA: the preferred exchanger refuses the
// connection, so the next one is tried.
func TestSMTPTalkMX(t *testing.T) {
	f := startFakeMTA(t)
	_, port, _ := net.SplitHostPort(f.addr)
	// Nothing listens on 127.0.0.2 at this port (loopback, refused at once).
	dns := mxtest.Start(t, mxtest.Options{Zone: `$ORIGIN hill.test.
$TTL 300
@     MX 10 down
@     MX 20 up
down  A  127.0.0.2
up    A  127.0.0.1
`})
	out, stderr, code := runMailx(t, "EHLO me\nQUIT\n", "smtp", "talk", "--mx", "hill.test", "--dns-server", dns.Addr, "--port", port, "--timeout", "3s")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	for _, want := range []string{
		"== Mail exchangers for hill.test",
		"down.hill.test: preference 10",
		"trying the next exchanger, as an MTA would",
		"== Connected to 127.0.0.1:" + port + " (up.hill.test, preference 20)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestSMTPSendUTF8Address: a non-ASCII envelope address goes out with
// SMTPUTF8 to a server that offers it (mailx serve), and is refused before
// MAIL FROM, with a reason, by one that does not (the fake).
func TestSMTPSendUTF8Address(t *testing.T) {
	m := startTalkServe(t)
	out, stderr, code := runMailx(t, "", "smtp", "send", "--server", m.Addr("smtp"), "--from", "Jöns <jöns@bücher.test>",
		"--to", "bob@mailx.test", "--subject", "Grüße", "--body", "Hallo Bob")
	if code != 0 || !strings.Contains(out, "C: MAIL FROM:<jöns@bücher.test> SMTPUTF8") {
		t.Errorf("mailx serve: exit %d, stderr %q\n%s", code, stderr, out)
	}
	f := startFakeMTA(t)
	out, stderr, code = runMailx(t, "", "smtp", "send", "--server", f.addr, "--from", "jöns@bücher.test", "--to", "bob@mx.test", "--body", "x")
	if code != 1 || !strings.Contains(stderr, "does not offer SMTPUTF8") || strings.Contains(out, "C: MAIL") {
		t.Errorf("fake without SMTPUTF8: exit %d, stderr %q\n%s", code, stderr, out)
	}
}

// TestSMTPSendIssue19: smtp send does not tell the user to type what it
// types itself, leaves Subject out when none was given, and sends a short
// accented body as quoted-printable, which stays readable.
func TestSMTPSendIssue19(t *testing.T) {
	f := startFakeMTA(t)
	out, stderr, code := runMailx(t, "", "smtp", "send", "--server", f.addr, "--from", "alice@crepes.test",
		"--to", "bob@hamburger.test", "--body", "Crêpes?")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr, out)
	}
	if strings.Contains(out, "next:") || strings.Contains(out, "introduce yourself") {
		t.Errorf("smtp send tells the user what to type next:\n%s", out)
	}
	msgs := f.got()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages", len(msgs))
	}
	if strings.Contains(msgs[0], "Subject:") {
		t.Errorf("an empty Subject field was written:\n%s", msgs[0])
	}
	if !strings.Contains(msgs[0], "Content-Transfer-Encoding: quoted-printable") || !strings.Contains(msgs[0], "Cr=C3=AApes?") {
		t.Errorf("the body is not quoted-printable:\n%s", msgs[0])
	}
	enc, _, _ := runMailx(t, "", "mime", "encode", "--from", "a@example.org", "--to", "b@example.org", "--text", "hi")
	if strings.Contains(enc, "Subject:") {
		t.Errorf("mime encode without --subject writes a Subject field:\n%s", enc)
	}
}
