package server

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/server/accounts"
)

// Real peers nobody here wrote: mailx serve relays into Postfix's smtp-sink
// and into Python's aiosmtpd, and Postfix's smtp-source relays through
// mailx serve.

// startPeer runs a server program and waits until addr accepts
// connections. It is stopped in t.Cleanup.
func startPeer(t *testing.T, addr string, name string, args ...string) {
	t.Helper()
	testkit.StartPeer(t, addr, exec.Command(name, args...))
}

// relayingMTA starts crepes.test with a static route for far.test to peer.
func relayingMTA(t *testing.T, peer string, mod func(*Config)) (*MTA, *events) {
	t.Helper()
	ev := newEvents()
	cfg := testConfig(t)
	cfg.Domains = []string{"crepes.test"}
	cfg.Users = []accounts.Credential{{Name: "alice", Password: "hungry"}}
	cfg.POP3Addr, cfg.IMAPAddr = "off", "off"
	cfg.Routes = map[string]string{"far.test": peer}
	cfg.Trace = ev.hook
	cfg.NoTranscripts = true
	if mod != nil {
		mod(&cfg)
	}
	return startMTA(t, cfg), ev
}

func TestRelayIntoPostfixSmtpSink(t *testing.T) {
	bin := testkit.NeedCommand(t, "smtp-sink", "postfix")
	peer := testkit.FreeAddr(t)
	args := []string{"-c", "-h", "sink.far.test"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "nobody") // smtp-sink refuses to run as root
	}
	startPeer(t, peer, bin, append(args, peer, "10")...)
	m, ev := relayingMTA(t, peer, nil)
	submit(t, m.Addr("submission"), "alice", "hungry", "alice@crepes.test", []string{"bob@far.test", "carol@far.test"}, aliceToBob)
	ev.waitMeta(t, "", "closed")
	// The relay session: smtp-sink greets, offers PIPELINING, takes both
	// recipients and the message, and the queue empties.
	waitEmpty(t, m)
	tr := ev.text()
	for _, want := range []string{"static route: mail for far.test goes to " + peer, "S: 220 sink.far.test ESMTP", "PIPELINING: sending MAIL, 2 RCPT and DATA at once",
		"C: RCPT TO:<carol@far.test>", "C: QUIT"} {
		if !strings.Contains(tr, want) {
			t.Errorf("trace lacks %q:\n%s", want, tr)
		}
	}
}

func waitEmpty(t *testing.T, m *MTA) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, func() bool { return len(m.Queue().List()) == 0 },
		"queue not empty: %+v", testkit.Later(func() any { return m.Queue().List() }))
}

// python3WithAiosmtpd finds a Python that can import aiosmtpd: the Debian
// package installs it for /usr/bin/python3, which may not be first on PATH.
func python3WithAiosmtpd() string {
	for _, p := range []string{"python3", "/usr/bin/python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import aiosmtpd").Run() == nil {
			return path
		}
	}
	return ""
}

func TestRelayIntoAiosmtpd(t *testing.T) {
	py := python3WithAiosmtpd()
	if py == "" {
		t.Skip("Python's aiosmtpd not installed (Debian package python3-aiosmtpd)")
	}
	peer := testkit.FreeAddr(t)
	box := filepath.Join(t.TempDir(), "maildir")
	startPeer(t, peer, py, "-m", "aiosmtpd", "-n", "-l", peer, "-c", "aiosmtpd.handlers.Mailbox", box)
	m, ev := relayingMTA(t, peer, nil)
	submit(t, m.Addr("submission"), "alice", "hungry", "alice@crepes.test", []string{"bob@far.test"}, aliceToBob)
	waitEmpty(t, m)
	var got []string
	for _, sub := range []string{"new", "cur"} {
		es, _ := os.ReadDir(filepath.Join(box, sub))
		for _, e := range es {
			b, _ := os.ReadFile(filepath.Join(box, sub, e.Name()))
			got = append(got, string(b))
		}
	}
	if len(got) != 1 || !strings.Contains(got[0], "Bob, crepes at eight?") || !strings.Contains(got[0], "Received: ") {
		t.Fatalf("aiosmtpd's Maildir holds %d messages: %q\ntrace:\n%s", len(got), got, ev.text())
	}
	if !strings.Contains(ev.text(), "S: 250 OK") {
		t.Errorf("aiosmtpd's reply to the message is not in the trace:\n%s", ev.text())
	}
}

// TestPostfixSmtpSourceRelaysThroughMailx: Postfix's load generator sends
// through mailx serve to another domain, which mailx relays into
// smtp-sink. smtp-source cannot log in (it has no AUTH), so it uses the
// SMTP port from a network configured as trusted for relaying
// (--relay-net 127.0.0.1/32), the way an office network is trusted; the
// submission port would (rightly) answer 530 5.7.0 before MAIL.
func TestPostfixSmtpSourceRelaysThroughMailx(t *testing.T) {
	source := testkit.NeedCommand(t, "smtp-source", "postfix")
	sink := testkit.NeedCommand(t, "smtp-sink", "postfix")
	peer := testkit.FreeAddr(t)
	args := []string{"-c", "-h", "sink.far.test"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "nobody")
	}
	startPeer(t, peer, sink, append(args, peer, "10")...)
	m, ev := relayingMTA(t, peer, func(c *Config) {
		c.RelayNets = append(c.RelayNets, netip.MustParsePrefix("127.0.0.1/32"))
	})
	const n = 10
	out, err := exec.Command(source, "-s", "3", "-m", strconv.Itoa(n), "-f", "load@crepes.test", "-t", "bob@far.test", "-S", "from smtp-source", m.Addr("smtp")).CombinedOutput()
	if err != nil {
		t.Fatalf("smtp-source: %v\n%s", err, out)
	}
	waitEmpty(t, m)
	tr := ev.text()
	if got := strings.Count(tr, "is remote: accepted for relay (client network is trusted for relay)"); got != n {
		t.Errorf("%d recipients accepted for relay, want %d", got, n)
	}
	if got := strings.Count(tr, "S: 220 sink.far.test ESMTP"); got != n {
		t.Errorf("%d relay sessions into smtp-sink, want %d (one per message)", got, n)
	}
}
