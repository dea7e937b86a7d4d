package server

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
)

// These tests drive mailx serve with mail clients nobody here wrote:
// Python's smtplib, swaks and curl. Each message must land in a Maildir.

// runClient runs a client program with a time limit and returns its output.
func runClient(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	return testkit.Run(t, 90*time.Second, cmd)
}

// waitMaildir waits for n messages in user's new/ and returns their contents.
func waitMaildir(t *testing.T, ev *events, data, user string, n int) []string {
	t.Helper()
	// Generous: the whole suite runs packages in parallel on two cores, and
	// a loaded machine must not turn a slow delivery into a failure.
	ev.waitMeta(t, "", "delivered to "+user)
	var files []string
	testkit.Eventually(t, 60*time.Second, func() bool {
		files, _ = filepath.Glob(filepath.Join(data, "mail", user, "new", "*"))
		return len(files) >= n
	}, "%s's Maildir holds %d messages, want %d", user, testkit.Later(func() any { return len(files) }), n)
	var out []string
	for _, f := range files {
		b, _ := os.ReadFile(f)
		out = append(out, string(b))
	}
	return out
}

const smtplibScript = `
import smtplib, ssl, sys
from email.message import EmailMessage
smtp_port, sub_port, cafile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

def msg(subject, to):
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "alice@mailx.test", to, subject
    m.set_content("Hello from smtplib.\n")
    return m

# 1. plain SMTP to a local user
with smtplib.SMTP("127.0.0.1", smtp_port) as s:
    s.send_message(msg("plain", "bob@mailx.test"))
    # relaying without AUTH is refused
    try:
        s.sendmail("alice@mailx.test", ["x@example.com"], "Subject: relay\r\n\r\nno\r\n")
        sys.exit("relay without AUTH was accepted")
    except smtplib.SMTPRecipientsRefused as e:
        code = e.recipients["x@example.com"][0]
        assert code == 554, code

# 2. STARTTLS, verifying the server's self-signed certificate
ctx = ssl.create_default_context(cafile=cafile)
with smtplib.SMTP("127.0.0.1", smtp_port, local_hostname="py.test") as s:
    s.starttls(context=ctx)
    s.ehlo()
    s.send_message(msg("starttls", "bob@mailx.test"))

# 3. submission: STARTTLS + AUTH, then local and remote recipients
with smtplib.SMTP("127.0.0.1", sub_port) as s:
    try:
        s.send_message(msg("no auth", "bob@mailx.test"))
        sys.exit("submission accepted mail without AUTH")
    except smtplib.SMTPSenderRefused as e:
        assert e.smtp_code == 530, e.smtp_code
    s.starttls(context=ctx)
    s.login("alice", "hungry")
    s.send_message(msg("submitted", "bob@mailx.test, friend@example.com"))
print("ok")
`

func TestPythonSmtplib(t *testing.T) {
	py := testkit.NeedCommand(t, "python3", "python3")
	ev := newEvents()
	cfg := testConfig(t)
	cfg.Trace = ev.hook
	// Remote mail goes to a loopback port nobody listens on: it stays
	// deferred in the queue, and no test ever asks a real DNS server.
	cfg.Routes = map[string]string{"example.com": testkit.FreeAddr(t)}
	m := startMTA(t, cfg)
	out := runClient(t, "", py, "-c", smtplibScript, port(m.Addr("smtp")), port(m.Addr("submission")), m.Certificate().CertFile)
	if !strings.Contains(out, "ok") {
		t.Fatalf("smtplib script: %s", out)
	}
	msgs := waitMaildir(t, ev, cfg.Data, "bob", 3)
	joined := strings.Join(msgs, "\n")
	for _, want := range []string{"Subject: plain", "Subject: starttls", "Subject: submitted", "with ESMTPS id", "with ESMTPSA id", "authenticated as alice", "Message-ID:"} {
		if !strings.Contains(joined, want) {
			t.Errorf("delivered messages lack %q", want)
		}
	}
	// The remote recipient was accepted (after AUTH) and waits in the queue.
	found := false
	for _, s := range m.Queue().List() {
		for _, r := range s.Recipients {
			found = found || r.Addr == "friend@example.com"
		}
	}
	if !found {
		t.Error("the queue does not hold the message for friend@example.com")
	}
}

func port(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

func TestSwaksWithAttachment(t *testing.T) {
	swaks := testkit.NeedCommand(t, "swaks", "swaks")
	ev := newEvents()
	cfg := testConfig(t)
	cfg.Trace = ev.hook
	m := startMTA(t, cfg)
	att := filepath.Join(t.TempDir(), "notes.pdf")
	os.WriteFile(att, bytes.Repeat([]byte("%PDF-1.4 binary \x00\x01\x02\xff\n"), 500), 0o644)
	// swaks gives up after 30 s of silence by default; a loaded machine
	// (the suite's other packages running beside it) may need longer.
	runClient(t, "", swaks, "--timeout", "80", "--server", m.Addr("submission"), "--tls", "--tls-verify", "--tls-ca-path", m.Certificate().CertFile,
		"--auth", "PLAIN", "--auth-user", "bob", "--auth-password", "burger",
		"--from", "bob@mailx.test", "--to", "alice@mailx.test", "--header", "Subject: lab report",
		"--attach", "@"+att, "--body", "See the attachment.")
	runClient(t, "", swaks, "--timeout", "80", "--server", m.Addr("smtp"), "--from", "x@example.com", "--to", "alice+lab@mailx.test",
		"--auth", "LOGIN", "--auth-user", "alice", "--auth-password", "hungry", "--attach", "@"+att)
	msgs := waitMaildir(t, ev, cfg.Data, "alice", 2)
	joined := strings.Join(msgs, "\n")
	for _, want := range []string{"Subject: lab report", "Content-Disposition: attachment", "notes.pdf", "with ESMTPSA id", "for <alice+lab@mailx.test>"} {
		if !strings.Contains(joined, want) {
			t.Errorf("delivered messages lack %q:\n%s", want, joined[:min(len(joined), 2000)])
		}
	}
}

func TestCurlSMTP(t *testing.T) {
	curl := testkit.NeedCommand(t, "curl", "curl")
	ev := newEvents()
	cfg := testConfig(t)
	cfg.Trace = ev.hook
	m := startMTA(t, cfg)
	file := filepath.Join(t.TempDir(), "mail.txt")
	os.WriteFile(file, []byte("From: carol@example.com\r\nTo: bob@mailx.test\r\nSubject: from curl\r\n\r\n.a line that starts with a dot\r\nbye\r\n"), 0o644)
	runClient(t, "", curl, "-sS", "--max-time", "20", "smtp://"+m.Addr("smtp"), "--mail-from", "carol@example.com", "--mail-rcpt", "bob@mailx.test", "-T", file)
	// curl with STARTTLS and AUTH on submission
	runClient(t, "", curl, "-sS", "--max-time", "20", "smtp://"+m.Addr("submission"), "--ssl-reqd", "--cacert", m.Certificate().CertFile,
		"--user", "alice:hungry", "--mail-from", "alice@mailx.test", "--mail-rcpt", "bob@mailx.test", "-T", file)
	msgs := waitMaildir(t, ev, cfg.Data, "bob", 2)
	for _, msg := range msgs {
		if !strings.Contains(msg, "Subject: from curl") || !strings.Contains(msg, "\n.a line that starts with a dot") {
			t.Errorf("curl's message arrived as:\n%s", msg)
		}
	}
}
