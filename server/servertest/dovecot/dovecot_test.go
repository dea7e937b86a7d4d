//go:build unix

package dovecot_test

import (
	"net"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/server/servertest/dovecot"
)

// TestStartServesBoth logs in to both protocols, then stops Dovecot and
// finds its IMAP port closed.
func TestStartServesBoth(t *testing.T) {
	d := dovecot.Start(t, dovecot.Options{POP3: true})
	p := testkit.Dial(t, d.POP3)
	if l := p.Line(); !strings.HasPrefix(l, "+OK") {
		t.Fatalf("POP3 greeting %q", l)
	}
	p.Send("USER alice")
	p.Line()
	p.Send("PASS hungry")
	if l := p.Line(); !strings.HasPrefix(l, "+OK") {
		t.Fatalf("POP3 login: %q\n", l)
	}
	i := testkit.Dial(t, d.IMAP)
	if l := i.Line(); !strings.HasPrefix(l, "* OK") {
		t.Fatalf("IMAP greeting %q", l)
	}
	i.Send("a LOGIN alice hungry")
	if l := i.Line(); !strings.HasPrefix(l, "a OK") {
		t.Fatalf("IMAP login: %q", l)
	}
	d.Stop()
	if c, err := net.Dial("tcp", d.IMAP); err == nil {
		c.Close()
		t.Error("Dovecot still accepts IMAP connections after Stop")
	}
}
