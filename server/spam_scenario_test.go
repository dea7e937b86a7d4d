package server

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/server/maildir"
	"github.com/mailx-edu/mailx/server/scenario"
)

func switchScenario(t *testing.T, m *MTA, text string) {
	t.Helper()
	s, err := scenario.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	m.SetScenario(s)
}

func TestScenarioSpoof(t *testing.T) {
	l, _ := startLab(t, Config{}, "")
	crepes, ham := l.MTA("crepes.test"), l.MTA("hamburger.test")
	switchScenario(t, crepes, "spoof")
	submit(t, crepes.Addr("submission"), "alice", "hungry", "alice@crepes.test", []string{"bob@hamburger.test"}, aliceToBob)
	b := waitFileWith(t, filepath.Join(ham.MailRoot("bob"), ".Junk", maildir.New), "crepes tonight?")
	for _, want := range []string{"spf=fail", "203.0.113.66", "dkim=none", "dmarc=fail", "SPF_FAIL", "DMARC_FAIL", "X-Spam-Status: Yes"} {
		if !strings.Contains(b, want) {
			t.Errorf("spoofed message lacks %q:\n%s", want, b)
		}
	}
}

func TestScenarioForward(t *testing.T) {
	l, _ := startLab(t, Config{}, "")
	crepes, ham := l.MTA("crepes.test"), l.MTA("hamburger.test")
	switchScenario(t, ham, "forward alice@crepes.test")
	submit(t, crepes.Addr("submission"), "alice", "hungry", "alice@crepes.test", []string{"bob@hamburger.test"}, aliceToBob)
	waitFileWith(t, filepath.Join(ham.MailRoot("bob"), maildir.New), "crepes tonight?")
	// The forwarded copy at crepes.test: the topmost Authentication-Results
	// is crepes.test's own.
	b := waitFileWith(t, filepath.Join(crepes.MailRoot("alice"), maildir.New), "crepes tonight?")
	top := b[strings.Index(b, "Authentication-Results: mx.crepes.test"):]
	top = top[:strings.Index(top, "X-Spam-Status")]
	for _, want := range []string{"spf=fail (198.51.100.10", "dkim=pass header.d=crepes.test", "dmarc=pass"} {
		if !strings.Contains(top, want) {
			t.Errorf("forwarded copy's results lack %q:\n%s", want, top)
		}
	}
}

func TestScenarioListFooter(t *testing.T) {
	l, _ := startLab(t, Config{}, "")
	crepes, ham := l.MTA("crepes.test"), l.MTA("hamburger.test")
	switchScenario(t, ham, "list-footer")
	submit(t, crepes.Addr("submission"), "alice", "hungry", "alice@crepes.test", []string{"bob@hamburger.test"}, aliceToBob)
	b := waitFileWith(t, filepath.Join(ham.MailRoot("bob"), maildir.New), "crepes tonight?")
	for _, want := range []string{"spf=pass", "dkim=fail", "body hash", "dmarc=pass", "DKIM_FAIL", "lab-talk list"} {
		if !strings.Contains(b, want) {
			t.Errorf("message through the list lacks %q:\n%s", want, b)
		}
	}
}

func TestScenarioOpenRelay(t *testing.T) {
	l, ev := startLab(t, Config{}, "")
	crepes, ham := l.MTA("crepes.test"), l.MTA("hamburger.test")
	switchScenario(t, crepes, "open-relay")
	ev.waitMeta(t, "crepes/scenario", "abuse desk listed 192.0.2.10")
	waitFileWith(t, filepath.Join(ham.MailRoot("bob"), maildir.New), "WON $1,000,000")
	// Alice's own mail to bob is now refused, and bounces to her.
	submit(t, crepes.Addr("submission"), "alice", "hungry", "alice@crepes.test", []string{"bob@hamburger.test"}, aliceToBob)
	b := waitFileWith(t, filepath.Join(crepes.MailRoot("alice"), maildir.New), "blocked using bl.lab.test")
	if !strings.Contains(b, "554") {
		t.Errorf("the bounce does not quote the 554:\n%s", b)
	}
}
