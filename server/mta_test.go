package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/accounts"
)

func init() { accounts.HashCost = bcrypt.MinCost }

// events collects trace events and lets a test wait for one.
type events struct {
	testkit.Recorder[transcript.Event]
}

func newEvents() *events { return &events{} }

func (e *events) hook(ev transcript.Event) { e.Add(ev) }

// waitMeta waits (at most 30 s) for a Meta event of session (any when "")
// containing s, looking at past events too. The bound is generous because
// every message is fsynced before its 250: on a disk busy with other work
// (a benchmark, a CI neighbour) that alone has taken seconds under -race.
func (e *events) waitMeta(t *testing.T, session, s string) transcript.Event {
	t.Helper()
	return e.Wait(t, 30*time.Second, fmt.Sprintf("containing %q", s), func(ev transcript.Event) bool {
		return ev.Dir == transcript.Meta && strings.Contains(ev.Line, s) && (session == "" || ev.Session == session)
	})
}

// testConfig listens on loopback port 0 everywhere.
func testConfig(t *testing.T) Config {
	return Config{
		Data:           t.TempDir(),
		SMTPAddr:       "127.0.0.1:0",
		SubmissionAddr: "127.0.0.1:0",
		POP3Addr:       "127.0.0.1:0",
		IMAPAddr:       "127.0.0.1:0",
		Limits:         smtpLimitsForTests,
	}
}

func startMTA(t *testing.T, cfg Config) *MTA {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return m
}

// smtpSession runs lines against addr, checking each reply's code.
func smtpSession(t *testing.T, addr string, steps [][2]string) {
	t.Helper()
	c := testkit.Dial(t, addr)
	defer c.Conn.Close()
	c.Exchange("", "220")
	for _, s := range steps {
		c.Exchange(strings.TrimSuffix(s[0], "\r\n"), s[1])
	}
}

func TestMTAReceivesAndDelivers(t *testing.T) {
	ev := newEvents()
	cfg := testConfig(t)
	cfg.Trace = ev.hook
	m := startMTA(t, cfg)
	smtpSession(t, m.Addr("smtp"), [][2]string{
		{"EHLO client.test\r\n", "250"},
		{"MAIL FROM:<carol@example.com>\r\n", "250"},
		{"RCPT TO:<bob@mailx.test>\r\n", "250"},
		{"RCPT TO:<friend@example.com>\r\n", "554"},
		{"DATA\r\n", "354"},
		{"Subject: hello\r\n\r\nHi Bob\r\n.\r\n", "250"},
		{"QUIT\r\n", "221"},
	})
	ev.waitMeta(t, "", "delivered to bob's Maildir")
	files, _ := filepath.Glob(filepath.Join(cfg.Data, "mail", "bob", "new", "*"))
	if len(files) != 1 {
		t.Fatalf("bob's new/ holds %d files, want 1", len(files))
	}
	b, _ := os.ReadFile(files[0])
	if !strings.Contains(string(b), "Received: from client.test") || !strings.Contains(string(b), "Hi Bob") {
		t.Errorf("delivered message:\n%s", b)
	}
	for _, f := range []string{"accounts", "tls/cert.pem", "tls/key.pem", "log/mailx.log", "control.json", "mail/alice/.Sent/cur"} {
		if _, err := os.Stat(filepath.Join(cfg.Data, f)); err != nil {
			t.Errorf("data directory lacks %s: %v", f, err)
		}
	}
	// The session's transcript is complete once it closed.
	ev.waitMeta(t, "s1", "closed")
	tr, _ := filepath.Glob(filepath.Join(cfg.Data, "transcripts", "*-s1.txt"))
	if len(tr) != 1 {
		t.Fatalf("transcripts for s1: %v", tr)
	}
	f, _ := os.Open(tr[0])
	defer f.Close()
	got, err := transcript.Read(f)
	if err != nil {
		t.Fatalf("transcript does not parse: %v", err)
	}
	if got.Header.Session != "s1" || len(got.Header.Extra) != 1 || got.Header.Extra[0][0] != "connect" || len(got.Lines) < 10 || got.Lines[0].Text != "220 mailx.test ESMTP mailx ready" {
		t.Errorf("transcript header %+v, %d lines", got.Header, len(got.Lines))
	}
	accts := m.Accounts()
	if len(accts) != 2 || accts[0] != (Account{"alice", "hungry"}) || accts[1] != (Account{"bob", "burger"}) {
		t.Errorf("practice accounts = %+v", accts)
	}
}

func TestSubmissionRelaysOnlyAfterAuth(t *testing.T) {
	m := startMTA(t, testConfig(t))
	smtpSession(t, m.Addr("submission"), [][2]string{
		{"EHLO laptop.test\r\n", "250"},
		{"MAIL FROM:<alice@mailx.test>\r\n", "530"},
		{"AUTH PLAIN AGFsaWNlAGh1bmdyeQ==\r\n", "235"},
		{"MAIL FROM:<alice@mailx.test>\r\n", "250"},
		{"RCPT TO:<friend@example.com>\r\n", "250"},
		{"QUIT\r\n", "221"},
	})
}

func TestUsersReplacePractice(t *testing.T) {
	cfg := testConfig(t)
	cfg.Users = []accounts.Credential{{Name: "carol", Password: "pw"}}
	m := startMTA(t, cfg)
	if a := m.Accounts(); len(a) != 1 || a[0].Name != "carol" {
		t.Errorf("accounts = %+v", a)
	}
	if !m.Directory().Authenticate("carol", "pw") || m.Directory().Authenticate("alice", "hungry") {
		t.Error("--user did not replace the practice accounts")
	}
}

func TestNonLoopbackNeedsPublic(t *testing.T) {
	cfg := testConfig(t)
	cfg.SMTPAddr = "0.0.0.0:0"
	_, err := New(cfg)
	var pe *PublicError
	if !errors.As(err, &pe) || pe.Name != "smtp" {
		t.Fatalf("New with 0.0.0.0 = %v, want a PublicError for smtp", err)
	}
	cfg.AllowPublic = true
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Shutdown(context.Background())
}

func TestSecondServerOnSameDataRefused(t *testing.T) {
	cfg := testConfig(t)
	startMTA(t, cfg)
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), "another mailx serve") {
		t.Fatalf("second New = %v", err)
	}
}

func TestListenErrorNamesService(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg := testConfig(t)
	cfg.SubmissionAddr = l.Addr().String()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown(context.Background())
	err = m.Start(t.Context())
	var le *ListenError
	if !errors.As(err, &le) || le.Service != "submission" {
		t.Fatalf("Start = %v, want a ListenError for submission", err)
	}
}
