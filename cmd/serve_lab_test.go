package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/server"
)

func TestServeRelayFlags(t *testing.T) {
	ios, _, _ := TestIO("")
	var got *serveOptions
	c := newServeCmd(ios, func(_ context.Context, o *serveOptions) error { got = o; return nil })
	c.SetArgs([]string{"--route", "Hill.test=127.0.0.1:2526", "--smarthost", "127.0.0.1:2600", "--time-scale", "1m=1s",
		"--scenario", "mailx.test=reject-next=554", "--dns", "127.0.0.1:5300", "--lifetime", "1h", "--retry-min", "1m", "--lab"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	cfg := got.Cfg
	if cfg.Routes["hill.test"] != "127.0.0.1:2526" || cfg.Smarthost != "127.0.0.1:2600" || cfg.TimeScale != 60 ||
		cfg.Scenarios["mailx.test"] != "reject-next 554" || cfg.DNSServer != "127.0.0.1:5300" || cfg.Lifetime != time.Hour ||
		cfg.RetryMin != time.Minute || !cfg.Lab {
		t.Errorf("config = %+v", cfg)
	}
	for _, bad := range [][]string{
		{"serve", "--route", "hill.test"}, {"serve", "--route", "hill.test=nowhere"}, {"serve", "--time-scale", "0"},
		{"serve", "--scenario", "x.test=explode"}, {"serve", "--scenario", "greylist"},
	} {
		ios, _, errOut := TestIO("")
		if code := Main(bad, ios); code != ExitUsage {
			t.Errorf("%q exits %d (%s), want %d", bad, code, errOut, ExitUsage)
		}
	}
}

func TestLabAddr(t *testing.T) {
	for _, tc := range []struct{ flag, def, want string }{
		{"", "127.0.0.1:2525", "127.0.0.1:2526"},
		{"127.0.0.1:0", "x", "127.0.0.1:0"},
		{"off", "x", "off"},
		{"[::1]:3000", "x", "[::1]:3001"},
	} {
		if got, err := labAddr(tc.flag, tc.def, 1); err != nil || got != tc.want {
			t.Errorf("labAddr(%q, %q, 1) = %q, %v; want %q", tc.flag, tc.def, got, err, tc.want)
		}
	}
}

// TestServeLab starts mailx serve --lab in-process on free ports, switches
// a scenario through mailx serve scenario, and checks the banner.
func TestServeLab(t *testing.T) {
	data := t.TempDir()
	ios, out, _ := TestIO("")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *server.Lab, 1)
	opts := &serveOptions{IO: ios, Data: data, readyLab: func(l *server.Lab) { ready <- l }}
	opts.Cfg.Lab = true
	opts.Cfg.SMTPAddr, opts.Cfg.SubmissionAddr, opts.Cfg.DNSServer = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	opts.Cfg.POP3Addr, opts.Cfg.IMAPAddr = "off", "off"
	opts.Cfg.Scenarios = map[string]string{"hamburger.test": "greylist"}
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, opts) }()
	var lab *server.Lab
	select {
	case lab = <-ready:
	case err := <-done:
		t.Fatalf("runServe ended early: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("lab did not start")
	}
	for _, want := range []string{"== mailx serve --lab", "lab DNS: " + lab.DNS.Addr(), "== crepes.test", "alice@crepes.test (password hungry)",
		"== hamburger.test", "bob@hamburger.test (password burger)", "scenario: greylist", "null MX: nomail.test",
		"exchanger: mx.hamburger.test = 127.0.0.1, SMTP port " + lab.Port("mx.hamburger.test"), "mailx mx lookup hamburger.test --server " + lab.DNS.Addr()} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}

	sios, sout, serr := TestIO("")
	if code := Main([]string{"serve", "scenario", "hamburger.test", "reject-next", "451", "--data", data, "--json"}, sios); code != 0 {
		t.Fatalf("serve scenario: exit %d: %s", code, serr)
	}
	var res server.ScenarioResult
	if err := json.Unmarshal(sout.Bytes(), &res); err != nil || res.Text != "reject-next 451" {
		t.Errorf("serve scenario --json = %q (%v)", sout, err)
	}
	if got := lab.MTA("hamburger.test").Scenario().String(); got != "reject-next 451" {
		t.Errorf("scenario in force %q", got)
	}
	sios, _, serr = TestIO("")
	if code := Main([]string{"serve", "scenario", "hill.test", "down", "--data", data}, sios); code != ExitFailure || !strings.Contains(serr.String(), "no running mail server found for hill.test") {
		t.Errorf("scenario for an unknown domain: exit %d, %q", code, serr)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("lab did not stop")
	}
}

func TestServeScenarioList(t *testing.T) {
	ios, out, _ := TestIO("")
	if code := Main([]string{"serve", "scenario"}, ios); code != 0 || !strings.Contains(out.String(), "greylist: 451 4.7.1") {
		t.Errorf("exit %d, output %q", code, out)
	}
	ios, _, errOut := TestIO("")
	if code := Main([]string{"serve", "scenario", "x.test", "explode"}, ios); code != ExitUsage || !strings.Contains(errOut.String(), "unknown scenario") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

// TestServeLabBinary drives the built binary as the README's lab section
// does: mailx serve --lab on free ports (read from the --json banner),
// mailx mx lookup against the lab DNS, and Alice's message to Bob sent with
// mailx smtp send through crepes.test's submission port with AUTH, relayed
// by MX to hamburger.test and found in Bob's Maildir.
func TestServeLabBinary(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("interrupting a child process needs a console on Windows")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	cmd := exec.Command(bin, "serve", "--lab", "--no-welcome", "--data", data, "--smtp", "127.0.0.1:0", "--submission", "127.0.0.1:0",
		"--pop3", "off", "--imap", "off", "--dns", "127.0.0.1:0", "--json", "--trace")
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(30 * time.Second)
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("mailx serve --lab ended; stderr: %s", stderr.String())
			}
			return l
		case <-timeout:
			t.Fatalf("mailx serve --lab: timed out; stderr: %s", stderr.String())
		}
		return ""
	}
	var rep labReport
	if err := json.Unmarshal([]byte(next()), &rep); err != nil || rep.Event != "started" || len(rep.Domains) != 2 {
		t.Fatalf("start-up report: %+v, %v", rep, err)
	}
	submission := ""
	for _, a := range rep.Domains[0].Listen {
		if a.Name == "submission" {
			submission = a.Addr
		}
	}
	if rep.Domains[0].Domain != "crepes.test" || submission == "" || strings.HasSuffix(rep.DNS, ":0") {
		t.Fatalf("start-up report without real addresses: %+v", rep)
	}
	mxOut, err := exec.Command(bin, "mx", "lookup", "hamburger.test", "--server", rep.DNS).CombinedOutput()
	if err != nil || !strings.Contains(string(mxOut), "10 mx.hamburger.test.") {
		t.Fatalf("mailx mx lookup against the lab DNS: %v\n%s", err, mxOut)
	}
	send := exec.Command(bin, "smtp", "send", "--server", submission, "--auth", "alice:hungry", "--from", "alice@crepes.test",
		"--to", "bob@hamburger.test", "--subject", "crepes tonight?", "--body", "Bob, crepes at eight?")
	send.Env = cmd.Env
	if out, err := send.CombinedOutput(); err != nil {
		t.Fatalf("mailx smtp send through submission: %v\n%s", err, out)
	}
	var trace []string
	for {
		l := next()
		trace = append(trace, l)
		if strings.Contains(l, "delivered to bob's Maildir") {
			break
		}
	}
	all := strings.Join(trace, "\n")
	for _, want := range []string{"MX? hamburger.test", "relay hop h1", "certificate verified for mx.hamburger.test"} {
		if !strings.Contains(all, want) {
			t.Errorf("the trace lacks %q", want)
		}
	}
	files, _ := filepath.Glob(filepath.Join(data, "hamburger.test", "mail", "bob", "new", "*"))
	if len(files) != 1 {
		t.Fatalf("bob has %d new messages, want 1", len(files))
	}
	if b, _ := os.ReadFile(files[0]); !strings.Contains(string(b), "Bob, crepes at eight?") {
		t.Errorf("bob's message:\n%s", b)
	}
	cmd.Process.Signal(os.Interrupt)
	go func() {
		for range lines {
		}
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after interrupt: %v; stderr %s", err, stderr.String())
	}
}
