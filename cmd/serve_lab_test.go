package cmd

import (
	"context"
	"encoding/json"
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
