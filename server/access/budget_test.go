package access

import (
	"net/netip"
	"strings"
	"testing"
)

// TestBudgetSharesReservesAndCapsClients: one budget for every class, a
// per-address cap per class, and a reserve per class that a flood of the
// others cannot take.
func TestBudgetSharesReservesAndCapsClients(t *testing.T) {
	b := NewBudget(20, 5)
	for _, c := range []string{"smtp", "pop3", "imap"} {
		b.Register(c)
	}
	var releases []func()
	ip := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}) }
	// One address: five POP3 sessions, then the per-client refusal.
	for i := 0; i < 5; i++ {
		r, why := b.Acquire("pop3", ip(1))
		if why != "" {
			t.Fatalf("pop3 session %d from one address refused: %s", i+1, why)
		}
		releases = append(releases, r)
	}
	if _, why := b.Acquire("pop3", ip(1)); !strings.Contains(why, "per client") {
		t.Errorf("sixth pop3 session from one address: %q, want a per-client refusal", why)
	}
	// The same address may still use another protocol.
	if r, why := b.Acquire("imap", ip(1)); why != "" {
		t.Errorf("imap from an address at its pop3 cap refused: %s", why)
	} else {
		releases = append(releases, r)
	}
	// Flood POP3 and IMAP from many addresses: SMTP keeps its reserve (2).
	for i := 2; i < 40; i++ {
		for _, c := range []string{"pop3", "imap"} {
			if r, why := b.Acquire(c, ip(i)); why == "" {
				releases = append(releases, r)
			}
		}
	}
	if got := b.Open(); got != 18 {
		t.Errorf("after the flood %d sessions open, want 18 (20 less SMTP's reserve of 2)", got)
	}
	for i := 0; i < 2; i++ {
		r, why := b.Acquire("smtp", ip(100+i))
		if why != "" {
			t.Fatalf("smtp session %d refused during a POP3/IMAP flood: %s", i+1, why)
		}
		releases = append(releases, r)
	}
	if _, why := b.Acquire("smtp", ip(102)); !strings.Contains(why, "20 sessions open") {
		t.Errorf("smtp over the whole budget: %q", why)
	}
	for _, r := range releases {
		r()
		r() // twice is harmless
	}
	if got := b.Open(); got != 0 {
		t.Errorf("after every release %d sessions open", got)
	}
	if r, why := b.Acquire("pop3", ip(1)); why != "" {
		t.Errorf("after release, refused: %s", why)
	} else {
		r()
	}
}

func TestSessionsForFiles(t *testing.T) {
	for limit, want := range map[uint64]int{0: 0, 100: 16, 1024: 448, 65536: 32704} {
		if got := SessionsForFiles(limit); got != want {
			t.Errorf("SessionsForFiles(%d) = %d, want %d", limit, got, want)
		}
	}
}
