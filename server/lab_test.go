package server

import (
	"bytes"
	"context"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/dsn"
	"github.com/mailx-edu/mailx/proto/dsn/dsntest"
	"github.com/mailx-edu/mailx/proto/mx"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/accounts"
	"github.com/mailx-edu/mailx/server/maildir"
	"github.com/mailx-edu/mailx/server/scenario"
)

// startLab starts crepes.test (alice) and hamburger.test (bob) on loopback
// port 0, with a lab DNS on port 0, tracing into the returned events.
func startLab(t *testing.T, base Config, hamburgerScenario string) (*Lab, *events) {
	t.Helper()
	base.NoTranscripts = true
	return startLabWith(t, base, hamburgerScenario, t.TempDir())
}

// startLabWith is startLab keeping the lab's data in data, with
// base.NoTranscripts as given.
func startLabWith(t *testing.T, base Config, hamburgerScenario, data string) (*Lab, *events) {
	t.Helper()
	ev := newEvents()
	base.Trace = ev.hook
	base.Limits = smtpLimitsForTests
	cfg := LabConfig{
		Data:    data,
		DNSAddr: "127.0.0.1:0",
		Base:    base,
		Domains: []LabDomain{
			{Domain: "crepes.test", Users: []accounts.Credential{{Name: "alice", Password: "hungry"}}, SMTPAddr: "127.0.0.1:0", SubmissionAddr: "127.0.0.1:0"},
			{Domain: "hamburger.test", Users: []accounts.Credential{{Name: "bob", Password: "burger"}}, SMTPAddr: "127.0.0.1:0", SubmissionAddr: "127.0.0.1:0", Scenario: hamburgerScenario},
		},
	}
	return runLab(t, cfg), ev
}

// runLab starts the lab cfg describes and shuts it down when the test ends,
// failing the test if that takes more than 10 s.
func runLab(t testing.TB, cfg LabConfig) *Lab {
	t.Helper()
	l, err := NewLab(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := l.Shutdown(ctx); err != nil {
			t.Errorf("lab shutdown: %v", err)
		}
	})
	return l
}

// submit sends a message as user through addr's submission service with
// AUTH PLAIN (allowed without TLS on loopback).
func submit(t *testing.T, addr, user, pass, from string, to []string, body string) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.crepes.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", user, pass, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail(from); err != nil {
		t.Fatal(err)
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			t.Fatal(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
}

const aliceToBob = "From: Alice <alice@crepes.test>\r\nTo: Bob <bob@hamburger.test>\r\nSubject: crepes tonight?\r\n\r\nBob, crepes at eight?\r\n"

func mailFiles(t *testing.T, m *MTA, user string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{maildir.New, maildir.Cur} {
		dir := filepath.Join(m.MailRoot(user), sub)
		es, _ := os.ReadDir(dir)
		for _, e := range es {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

func readDSN(t *testing.T, path string) *dsn.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := dsntest.Read(f)
	if err != nil {
		t.Fatalf("%s is not a delivery status notification: %v", path, err)
	}
	return rep
}

func (e *events) text() string {
	var b strings.Builder
	for _, ev := range e.All() {
		b.WriteString("[" + ev.Session + "] " + ev.Dir.String() + ": " + ev.Line + "\n")
	}
	return b.String()
}

func TestLabRelayAliceToBob(t *testing.T) {
	l, ev := startLab(t, Config{}, "")
	crepes, hamburger := l.MTA("crepes.test"), l.MTA("hamburger.test")

	// The lab DNS answers like a real one: mailx mx lookup --server works.
	res, err := (&mx.Resolver{Server: l.DNS.Addr()}).Lookup(context.Background(), "hamburger.test")
	if err != nil || len(res.Exchangers) != 1 || res.Exchangers[0].Host != "mx.hamburger.test" {
		t.Fatalf("MX lookup through the lab DNS: %+v, %v", res, err)
	}

	submit(t, crepes.Addr("submission"), "alice", "hungry", "alice@crepes.test", []string{"bob@hamburger.test"}, aliceToBob)
	ev.waitMeta(t, "", "delivered to bob's Maildir")
	ev.waitMeta(t, "", "accepted the message for 1 recipient(s)") // bob's Maildir may have it before crepes hears the 250
	files := mailFiles(t, hamburger, "bob")
	if len(files) != 1 {
		t.Fatalf("bob has %d messages, want 1", len(files))
	}
	b, _ := os.ReadFile(files[0])
	if !strings.Contains(string(b), "Bob, crepes at eight?") || !strings.Contains(string(b), "Return-Path: <alice@crepes.test>") {
		t.Errorf("bob's message:\n%s", b)
	}
	// Received: fields of both hops: crepes took it from alice, hamburger
	// from crepes' relay client.
	if strings.Count(string(b), "Received: ") < 2 {
		t.Errorf("want a Received: field per hop:\n%s", b)
	}
	tr := ev.text()
	for _, want := range []string{
		"MX lookup via " + l.DNS.Addr() + ": hamburger.test; trying in this order: 10 mx.hamburger.test [127.0.0.1]:" + l.Port("mx.hamburger.test"),
		"C: EHLO mx.crepes.test",
		"C: RCPT TO:<bob@hamburger.test>",
		"accepted the message for 1 recipient(s) as queue id",
		// The lab's servers trust each other's certificates, which name
		// the exchanger.
		"certificate verified for mx.hamburger.test",
		// The lab DNS's side of the MX lookup.
		"[dns] C: MX? hamburger.test (from 127.0.0.1:",
		"[dns] S: NOERROR | hamburger.test. 300 IN MX 10 mx.hamburger.test.",
	} {
		if !strings.Contains(tr, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	// Both ends of the hop carry its id, each in its own session.
	sender := ev.waitMeta(t, "", "connected from 127.0.0.1:")
	receiver := ev.waitMeta(t, "", "this session receives relay session")
	if !strings.HasPrefix(sender.Session, "crepes/") || !strings.HasPrefix(receiver.Session, "hamburger/") {
		t.Errorf("hop sessions %q and %q, want crepes/... and hamburger/...", sender.Session, receiver.Session)
	}
	if !strings.Contains(sender.Line, "relay hop h1") || !strings.HasPrefix(receiver.Line, "relay hop h1:") {
		t.Errorf("hop ids differ: %q / %q", sender.Line, receiver.Line)
	}
}

// TestLabHopInTranscripts: both ends of a relay hop name it in their
// transcript files, not only in --trace, so grep finds the two sides of one
// conversation in DATA/transcripts.
func TestLabHopInTranscripts(t *testing.T) {
	data := t.TempDir()
	l, ev := startLabWith(t, Config{}, "", data)
	submit(t, l.MTA("crepes.test").Addr("submission"), "alice", "hungry", "alice@crepes.test", []string{"bob@hamburger.test"}, aliceToBob)
	sender := ev.waitMeta(t, "", "connected from 127.0.0.1:")
	receiver := ev.waitMeta(t, "", "this session receives relay session")
	ev.waitMeta(t, sender.Session, "closed")
	ev.waitMeta(t, receiver.Session, "closed")
	find := func(domain, want string) {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(data, domain, "transcripts", "*"))
		for _, f := range files {
			if b, _ := os.ReadFile(f); strings.Contains(string(b), want) {
				if _, err := transcript.Read(bytes.NewReader(b)); err != nil {
					t.Errorf("%s does not read as a transcript: %v", f, err)
				}
				return
			}
		}
		t.Errorf("no transcript of %s (%d files) contains %q", domain, len(files), want)
	}
	find("crepes.test", "# connected from ")
	find("crepes.test", ": relay hop h1")
	find("hamburger.test", "# relay hop h1: this session receives relay session s")
	if n := strings.Count(ev.text(), "relay hop h1: this session receives"); n != 1 {
		t.Errorf("the trace names the receiving end %d times, want once", n)
	}
}

func TestLabDownThenBack(t *testing.T) {
	l, ev := startLab(t, Config{TimeScale: 600}, "down")
	submit(t, l.MTA("crepes.test").Addr("submission"), "alice", "hungry", "alice@crepes.test", []string{"bob@hamburger.test"}, aliceToBob)
	ev.waitMeta(t, "", "retry <bob@hamburger.test> in 5 min (500 ms real time at time scale 600) because 421 4.3.2")
	if n := len(mailFiles(t, l.MTA("hamburger.test"), "bob")); n != 0 {
		t.Fatalf("delivered while down: %d", n)
	}
	l.MTA("hamburger.test").SetScenario(scenario.Scenario{Name: scenario.Normal})
	ev.waitMeta(t, "", "delivered to bob's Maildir")
	if n := len(mailFiles(t, l.MTA("crepes.test"), "alice")); n != 0 {
		t.Errorf("alice got %d notices for a message that was delivered on retry", n)
	}
}

func TestLabNeverComesBackBounces(t *testing.T) {
	l, ev := startLab(t, Config{TimeScale: 3600, RetryMin: time.Minute, Lifetime: 20 * time.Minute}, "down")
	submit(t, l.MTA("crepes.test").Addr("submission"), "alice", "hungry", "alice@crepes.test", []string{"bob@hamburger.test"}, aliceToBob)
	ev.waitMeta(t, "", "giving up on <bob@hamburger.test>: queued for 20 min")
	ev.waitMeta(t, "", "delivered to alice's Maildir")
	files := mailFiles(t, l.MTA("crepes.test"), "alice")
	if len(files) != 1 {
		t.Fatalf("alice has %d messages, want the bounce", len(files))
	}
	rep := readDSN(t, files[0])
	r := rep.Recipients[0]
	if r.Action != dsn.Failed || r.Status != "4.4.7" || !strings.HasPrefix(r.Diagnostic, "421 4.3.2") || r.RemoteMTA != "mx.hamburger.test" {
		t.Errorf("bounce recipient %+v", r)
	}
	if !strings.Contains(string(rep.OriginalHeaders), "Subject: crepes tonight?") {
		t.Errorf("original headers %q", rep.OriginalHeaders)
	}
}

func TestLabGreylistPassesOnRetry(t *testing.T) {
	l, ev := startLab(t, Config{TimeScale: 600}, "greylist")
	submit(t, l.MTA("crepes.test").Addr("submission"), "alice", "hungry", "alice@crepes.test", []string{"bob@hamburger.test"}, aliceToBob)
	ev.waitMeta(t, "", "scenario greylist: first attempt from <alice@crepes.test> to <bob@hamburger.test>")
	ev.waitMeta(t, "", "retry <bob@hamburger.test> in 5 min")
	ev.waitMeta(t, "", "delivered to bob's Maildir")
	if !strings.Contains(ev.text(), "S: 451 4.7.1 <bob@hamburger.test>: greylisted") {
		t.Errorf("the greylisting reply is not in the trace")
	}
}

func TestLabNullMXBouncesAtOnce(t *testing.T) {
	l, ev := startLab(t, Config{}, "")
	submit(t, l.MTA("crepes.test").Addr("submission"), "alice", "hungry", "alice@crepes.test", []string{"someone@nomail.test"}, aliceToBob)
	ev.waitMeta(t, "", "delivered to alice's Maildir")
	files := mailFiles(t, l.MTA("crepes.test"), "alice")
	if len(files) != 1 {
		t.Fatalf("alice has %d messages, want the bounce", len(files))
	}
	r := readDSN(t, files[0]).Recipients[0]
	if r.Status != "5.1.10" || !strings.Contains(r.Diagnostic, "null MX") {
		t.Errorf("bounce recipient %+v", r)
	}
	if strings.Contains(ev.text(), "connecting to") {
		t.Errorf("a null MX domain was connected to")
	}
}

func TestRelayConfigKeys(t *testing.T) {
	var c Config
	in := "[relay]\nretry_min = 1m\nretry_max = 30m\nlifetime = 2h\ndelay_warning = 4h\ntime_scale = 60\n[scenarios]\nmailx.test = greylist 60\n"
	if err := ParseConfig(strings.NewReader(in), "test.conf", &c); err != nil {
		t.Fatal(err)
	}
	if c.RetryMin != time.Minute || c.RetryMax != 30*time.Minute || c.Lifetime != 2*time.Hour || c.DelayWarning != 4*time.Hour || c.TimeScale != 60 {
		t.Errorf("config = %+v", c)
	}
	if err := ParseConfig(strings.NewReader("[relay]\nlifetime = forever\n"), "bad.conf", &c); err == nil || !strings.Contains(err.Error(), "bad.conf") {
		t.Errorf("bad lifetime: %v", err)
	}
	// A scenario named in the config file is checked when the server starts.
	cfg := testConfig(t)
	cfg.Scenarios = map[string]string{"mailx.test": "explode"}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "unknown scenario") {
		t.Errorf("New with a bad scenario: %v", err)
	}
	cfg = testConfig(t)
	cfg.Scenarios = map[string]string{"elsewhere.test": "down"}
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "not a domain of this server") {
		t.Errorf("New with a scenario for a foreign domain: %v", err)
	}
}
