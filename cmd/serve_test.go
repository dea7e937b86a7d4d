package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/imap"
	"github.com/mailx-edu/mailx/proto/pop3"
	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server"
)

// serveTestConf turns off the listeners other parts add by default (POP3,
// IMAP), so that tests bind only loopback port 0.
const serveTestConf = "[server]\npop3 = off\nimap = off\n"

func TestServeFlags(t *testing.T) {
	ios, _, _ := TestIO("")
	var got *serveOptions
	c := newServeCmd(ios, func(ctx context.Context, o *serveOptions) error { got = o; return nil })
	c.SetArgs([]string{"--domain", "crepes.test", "--domain", "hamburger.test", "--user", "Carol:pw:x", "--max-size", "1M",
		"--smtp", "127.0.0.1:0", "--submission", "off", "--relay-net", "10.0.0.0/8", "--trace", "--data", "d", "--idle-timeout", "1m"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	cfg := got.Cfg
	if strings.Join(cfg.Domains, ",") != "crepes.test,hamburger.test" || len(cfg.Users) != 1 || cfg.Users[0].Name != "carol" || cfg.Users[0].Password != "pw:x" ||
		cfg.Limits.MessageSize != 1<<20 || cfg.SMTPAddr != "127.0.0.1:0" || cfg.SubmissionAddr != "off" || len(cfg.RelayNets) != 1 ||
		!got.Trace || got.Data != "d" || cfg.Limits.Idle != time.Minute {
		t.Errorf("options = %+v", got)
	}
}

func TestServeConfigFileUnderFlags(t *testing.T) {
	data := t.TempDir()
	os.WriteFile(filepath.Join(data, "mailx.conf"), []byte("[server]\nsmtp = 127.0.0.1:2626\ndomains = crepes.test\n[limits]\nmax_size = 2M\nmax_errors = 5\n"), 0o644)
	ios, _, _ := TestIO("")
	var got *serveOptions
	c := newServeCmd(ios, func(ctx context.Context, o *serveOptions) error { got = o; return nil })
	c.SetArgs([]string{"--data", data, "--max-size", "1M", "--domain", "x.test"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	cfg, err := got.buildConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SMTPAddr != "127.0.0.1:2626" || cfg.Limits.MessageSize != 1<<20 || cfg.Limits.Errors != 5 || strings.Join(cfg.Domains, ",") != "x.test" || cfg.Data != data {
		t.Errorf("merged config = %+v", cfg)
	}
}

func TestServeStartErrors(t *testing.T) {
	data := t.TempDir()
	bad := filepath.Join(data, "bad.conf")
	os.WriteFile(bad, []byte("[server]\nsmpt = 127.0.0.1:25\n"), 0o644)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"public needs flag", []string{"serve", "--data", data, "--smtp", "0.0.0.0:0"}, ExitUsage, "Add --public"},
		{"bad config", []string{"serve", "--data", data, "--config", bad}, ExitFailure, `bad.conf:2: unknown key "smpt" in [server]; did you mean "smtp"?`},
		{"bad size", []string{"serve", "--max-size", "huge"}, ExitUsage, `"huge" is not a size`},
		{"bad user", []string{"serve", "--user", "nopassword"}, ExitUsage, "NAME:PASSWORD"},
		{"extra arg", []string{"serve", "now"}, ExitUsage, "too many arguments"},
		{"bad address", []string{"serve", "--data", data, "--smtp", "nonsense"}, ExitUsage, `smtp: "nonsense" is not HOST:PORT`},
		{"bad port", []string{"serve", "--data", data, "--smtp", "127.0.0.1:99999"}, ExitUsage, "has a bad port"},
		{"bad hostname", []string{"serve", "--data", data, "--hostname", "x y"}, ExitUsage, `hostname: "x y" is not a valid domain name`},
		{"bad domain", []string{"serve", "--data", data, "--domain", "a..b"}, ExitUsage, `domain: "a..b" is not a valid domain name`},
		{"negative limit", []string{"serve", "--data", data, "--max-recipients", "-1"}, ExitUsage, "max-recipients: -1 is negative"},
		{"bad smarthost", []string{"serve", "--data", data, "--smarthost", "relay"}, ExitUsage, `smarthost: "relay" is not HOST:PORT`},
		{"missing config", []string{"serve", "--data", data, "--config", filepath.Join(data, "none.conf")}, ExitFailure, "mailx serve --example-config > "},
		{"lab public dns", []string{"serve", "--lab", "--data", data, "--dns", "0.0.0.0:0"}, ExitUsage, "Add --public"},
		{"lab twice", []string{"serve", "--lab", "--data", data, "--domain", "a.test", "--domain", "A.test"}, ExitUsage, "given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, errOut := TestIO("")
			if code := run(context.Background(), tc.args, ios); code != tc.code || !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut.String(), tc.code, tc.stderr)
			}
		})
	}
}

// TestServeLabDNSPortInUse: the lab DNS address is taken; the message names
// the flag that moves it.
func TestServeLabDNSPortInUse(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ios, _, errOut := TestIO("")
	args := []string{"serve", "--lab", "--data", t.TempDir(), "--dns", pc.LocalAddr().String(),
		"--smtp", "127.0.0.1:0", "--submission", "127.0.0.1:0", "--pop3", "off", "--imap", "off"}
	if code := run(context.Background(), args, ios); code != ExitFailure ||
		!strings.Contains(errOut.String(), "cannot listen for lab DNS on "+pc.LocalAddr().String()) || !strings.Contains(errOut.String(), "--dns HOST:PORT") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestServeRunsAndStops starts runServe in-process, sends a message, and
// stops it with a cancelled context as Ctrl-C does.
func TestServeRunsAndStops(t *testing.T) {
	data := t.TempDir()
	ios, out, _ := TestIO("")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *server.MTA, 1)
	// Without a command line the config file alone applies: it turns POP3
	// and IMAP off and puts SMTP and submission on port 0.
	os.WriteFile(filepath.Join(data, "mailx.conf"), []byte(serveTestConf+"smtp = 127.0.0.1:0\nsubmission = 127.0.0.1:0\n"), 0o644)
	opts := &serveOptions{IO: ios, Data: data, ready: func(m *server.MTA) { ready <- m }}
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, opts) }()
	var m *server.MTA
	select {
	case m = <-ready:
	case err := <-done:
		t.Fatalf("runServe ended early: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("server did not start")
	}
	smtpExchange(t, m.Addr("smtp"), "bob@mailx.test")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop")
	}
	for _, want := range []string{"== mailx serve: mail for mailx.test", "  smtp: 127.0.0.1:", "accounts: alice (password hungry), bob (password burger)", "next: mailx smtp talk 127.0.0.1:", "ok: stopped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// smtpExchange sends one message to rcpt and checks every reply.
func smtpExchange(t *testing.T, addr, rcpt string) {
	t.Helper()
	c := testkit.Dial(t, addr)
	defer c.Conn.Close()
	c.Exchange("", "220")
	for _, step := range [][2]string{
		{"EHLO test.client", "250"}, {"MAIL FROM:<carol@example.com>", "250"}, {"RCPT TO:<" + rcpt + ">", "250"},
		{"DATA", "354"}, {"Subject: from the test\r\n\r\nHello.\r\n.", "250"}, {"QUIT", "221"},
	} {
		c.Exchange(step[0], step[1])
	}
}

// TestServeBinary drives the built binary as a student's shell does: start
// it on port 0, read the real address from the banner, send a message,
// interrupt it, and find the message in bob's Maildir.
func TestServeBinary(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("interrupting a child process needs a console on Windows")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	os.WriteFile(filepath.Join(data, "mailx.conf"), []byte(serveTestConf), 0o644)
	cmd := exec.Command(bin, "serve", "--data", data, "--smtp", "127.0.0.1:0", "--submission", "127.0.0.1:0", "--json")
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("no start-up report; stderr: %s", stderr.String())
	}
	var rep serveReport
	if err := json.Unmarshal(lines.Bytes(), &rep); err != nil || rep.Event != "started" {
		t.Fatalf("start-up report %q: %v", lines.Text(), err)
	}
	addr := ""
	for _, l := range rep.Listen {
		if l.Name == "smtp" {
			addr = l.Addr
		}
	}
	smtpExchange(t, addr, "bob+test@mailx.test")
	// The welcome message and the one just sent.
	testkit.Eventually(t, 30*time.Second, func() bool {
		files, _ := filepath.Glob(filepath.Join(data, "mail", "bob", "new", "*"))
		return len(files) == 2
	}, "message not in bob's Maildir")
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after interrupt: %v; stderr %s", err, stderr.String())
	}
}

func TestServeUserCommands(t *testing.T) {
	data := t.TempDir()
	runOK := func(stdin string, args ...string) string {
		t.Helper()
		ios, out, errOut := TestIO(stdin)
		if code := run(context.Background(), append(args, "--data", data), ios); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
		}
		return out.String()
	}
	runOK("s3cret\n", "serve", "user", "add", "Carol")
	runOK("", "serve", "user", "add", "dave", "--password", "pw")
	runOK("n3w\n", "serve", "user", "passwd", "carol")
	var users []userEntry
	if err := json.Unmarshal([]byte(runOK("", "serve", "user", "list", "--json")), &users); err != nil || len(users) != 2 || users[0].Name != "carol" {
		t.Fatalf("list --json = %+v, %v", users, err)
	}
	if _, err := os.Stat(filepath.Join(data, "mail", "carol", ".Trash", "cur")); err != nil {
		t.Errorf("no Maildir with folders for carol: %v", err)
	}
	if out := runOK("", "serve", "user", "del", "dave"); !strings.Contains(out, "removed dave") {
		t.Errorf("del said %q", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "user", "add", "carol", "--password", "x"}, "already exists"},
		{[]string{"serve", "user", "passwd", "nobody", "--password", "x"}, "no user"},
		{[]string{"serve", "user", "del", "nobody"}, "no user"},
		{[]string{"serve", "user", "add", "../evil", "--password", "x"}, "user name"},
		{[]string{"serve", "user", "add", "erin"}, "no password"},
	} {
		ios, _, errOut := TestIO("")
		if code := run(context.Background(), append(tc.args, "--data", data), ios); code == 0 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errOut.String(), tc.want)
		}
	}
}

// TestTraceRendererGolden pins what --trace prints for one short session.
func TestTraceRendererGolden(t *testing.T) {
	var b strings.Builder
	tr := newTraceRenderer(render.New(&b, render.Options{}))
	for _, ev := range []transcript.Event{
		{Dir: transcript.Meta, Line: "connect from 127.0.0.1:40000 to 127.0.0.1:2525 (smtp)"},
		{Dir: transcript.Server, Line: "220 mailx.test ESMTP mailx ready"},
		{Dir: transcript.Client, Line: "HELO laptop"},
		{Dir: transcript.Server, Line: "250 mailx.test greets laptop"},
		{Dir: transcript.Client, Line: "RCPT TO:<bob@mailx.test>"},
		{Dir: transcript.Server, Line: "503 5.5.1 Send MAIL FROM:<address> before RCPT TO"},
		{Dir: transcript.Client, Line: "MAIL FROM:<alice@mailx.test>"},
		{Dir: transcript.Server, Line: "250 2.1.0 Sender <alice@mailx.test> ok"},
		{Dir: transcript.Client, Line: "RCPT TO:<bob@example.com>"},
		{Dir: transcript.Server, Line: "554 5.7.1 <bob@example.com>: relay access denied"},
		{Dir: transcript.Client, Line: "QUIT"},
		{Dir: transcript.Server, Line: "221 2.0.0 mailx.test closing connection"},
		{Dir: transcript.Meta, Line: "closed"},
	} {
		ev.Session, ev.Proto = "s1", "smtp"
		tr.hook(ev)
	}
	for _, ev := range []transcript.Event{
		{Dir: transcript.Server, Line: "+OK POP3 server ready"},
		{Dir: transcript.Client, Line: "USER alice"},
		{Dir: transcript.Server, Line: "+OK"},
		{Dir: transcript.Client, Line: "PASS hungry"},
		{Dir: transcript.Server, Line: "+OK maildrop locked and ready"},
		{Dir: transcript.Client, Line: "LIST"},
		{Dir: transcript.Server, Line: "+OK 1 messages"},
		{Dir: transcript.Server, Line: "1 120"},
		{Dir: transcript.Server, Line: "."},
		{Dir: transcript.Client, Line: "DELE 1"},
		{Dir: transcript.Server, Line: "+OK message 1 deleted"},
	} {
		ev.Session, ev.Proto = "s2", "pop3"
		tr.hook(ev)
	}
	for _, ev := range []transcript.Event{
		{Dir: transcript.Server, Line: "* OK [CAPABILITY IMAP4rev1] ready"},
		{Dir: transcript.Client, Line: "a1 LOGIN bob burger"},
		{Dir: transcript.Server, Line: "a1 OK LOGIN completed"},
		{Dir: transcript.Client, Line: "a2 SELECT INBOX"},
		{Dir: transcript.Server, Line: "* 2 EXISTS"},
		{Dir: transcript.Server, Line: "a2 OK [READ-WRITE] SELECT completed"},
		{Dir: transcript.Server, Line: "* OK [UIDVALIDITY 1795362224] UIDs valid"},
		{Dir: transcript.Client, Line: "a3 FETCH 1 (FLAGS BODY[])"},
		{Dir: transcript.Server, Line: "* 1 FETCH (FLAGS (\\Seen) BODY[] {36}"},
		{Dir: transcript.Server, Line: "Subject: hi"},
		{Dir: transcript.Server, Line: ""},
		{Dir: transcript.Server, Line: "* OK not a response"},
		{Dir: transcript.Server, Line: ")"},
		{Dir: transcript.Server, Line: "a3 OK FETCH completed"},
		{Dir: transcript.Client, Line: "a4 FETCH 2 BODY[]"},
		{Dir: transcript.Server, Line: "* 2 FETCH (BODY[] {90000}"},
		{Dir: transcript.Meta, Line: "(90000 octets of literal data not shown)"},
		{Dir: transcript.Server, Line: ")"},
		{Dir: transcript.Server, Line: "a4 OK FETCH completed"},
		{Dir: transcript.Client, Line: "a5 IDLE"},
		{Dir: transcript.Server, Line: "+ idling"},
		{Dir: transcript.Server, Line: "* 3 EXISTS"},
		{Dir: transcript.Client, Line: "DONE"},
		{Dir: transcript.Server, Line: "a5 OK IDLE terminated"},
		{Dir: transcript.Client, Line: "a6 EXPUNGE"},
		{Dir: transcript.Server, Line: "a6 OK EXPUNGE completed"},
	} {
		ev.Session, ev.Proto = "s3", "imap"
		tr.hook(ev)
	}
	for _, ev := range []transcript.Event{
		{Dir: transcript.Client, Line: "MX? hamburger.test (from 127.0.0.1:40001)"},
		{Dir: transcript.Server, Line: "NOERROR | hamburger.test. 300 IN MX 10 mx.hamburger.test."},
		{Dir: transcript.Client, Line: "MX? nomail.test (from 127.0.0.1:40002)"},
		{Dir: transcript.Server, Line: "NOERROR | nomail.test. 300 IN MX 0 ."},
		{Dir: transcript.Client, Line: "A? mx.nowhere.test (from 127.0.0.1:40003)"},
		{Dir: transcript.Server, Line: "REFUSED"},
	} {
		ev.Session, ev.Proto = "dns", "dns"
		tr.hook(ev)
	}
	if len(tr.sessions) != 3 {
		t.Errorf("%d sessions kept after s1 closed, want 3", len(tr.sessions))
	}
	if st := tr.sessions["s2"].other.(*pop3Trace).state; st != pop3.Transaction {
		t.Errorf("POP3 trace state = %v, want transaction", st)
	}
	if st := tr.sessions["s3"].other.(*imapTrace).state; st != imap.Selected {
		t.Errorf("IMAP trace state = %v, want selected", st)
	}
	testkit.Golden(t, "testdata/serve/trace.golden", []byte(b.String()))
}

func TestBannerAddresses(t *testing.T) {
	for _, tc := range []struct {
		addr, reach string
		exposed     bool
	}{
		{"127.0.0.1:2525", "127.0.0.1:2525", false},
		{"[::1]:2525", "[::1]:2525", false},
		{"0.0.0.0:2525", "127.0.0.1:2525", true},
		{"[::]:2525", "127.0.0.1:2525", true},
		{"192.0.2.7:2525", "192.0.2.7:2525", true},
	} {
		if got := reachable(tc.addr); got != tc.reach {
			t.Errorf("reachable(%q) = %q, want %q", tc.addr, got, tc.reach)
		}
		if got := exposed(tc.addr); got != tc.exposed {
			t.Errorf("exposed(%q) = %v, want %v", tc.addr, got, tc.exposed)
		}
	}
}

// TestFreshServerGreetsWithMail is the course's first POP3 session against a
// server nobody has sent anything to: `user alice / pass hungry / list /
// retr 1 / dele 1 / quit` must find the welcome message, and --no-welcome
// must leave a new INBOX empty.
func TestFreshServerGreetsWithMail(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("interrupting a child process needs a console on Windows")
	}
	bin := buildBinary(t)
	for _, tc := range []struct {
		flags    []string
		messages string
	}{{nil, "has 1 message"}, {[]string{"--no-welcome"}, "has 0 messages"}} {
		data := t.TempDir()
		args := append([]string{"serve", "--data", data, "--smtp", "off", "--submission", "off", "--imap", "off",
			"--pop3", "127.0.0.1:0", "--json"}, tc.flags...)
		cmd := exec.Command(bin, args...)
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		var rep serveReport
		if !lines.Scan() || json.Unmarshal(lines.Bytes(), &rep) != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("%v: no start-up report", tc.flags)
		}
		pop := ""
		for _, l := range rep.Listen {
			if l.Name == "pop3" {
				pop = l.Addr
			}
		}
		talk := exec.Command(bin, "pop3", "talk", pop, "--no-color")
		talk.Stdin = strings.NewReader("user alice\npass hungry\nlist\nretr 1\ndele 1\nquit\n")
		out, err := talk.CombinedOutput()
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if !strings.Contains(string(out), tc.messages) {
			t.Errorf("%v: the POP3 session does not say %q:\n%s", tc.flags, tc.messages, out)
		}
		if tc.flags == nil {
			if err != nil {
				t.Errorf("the seed session failed on a fresh server: %v\n%s", err, out)
			}
			for _, want := range []string{"From: Postmaster <postmaster@mailx.test>", "Subject: Welcome to your practice mailbox", "mailx pop3 talk HOST:PORT"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("RETR 1 lacks %q:\n%s", want, out)
				}
			}
		}
	}
}
