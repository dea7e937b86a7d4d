package dnsbl

import (
	"net/netip"
	"testing"
)

func TestQueryName(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"203.0.113.66", "66.113.0.203.bl.lab.test"},
		{"127.0.0.2", "2.0.0.127.bl.lab.test"},
		{"::ffff:127.0.0.2", "2.0.0.127.bl.lab.test"},
		{"2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.lab.test"},
	} {
		if got := QueryName(netip.MustParseAddr(tc.addr), "bl.lab.test."); got != tc.want {
			t.Errorf("QueryName(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
	if got := RejectText(netip.MustParseAddr("203.0.113.66"), "bl.lab.test", "open relay"); got != "Service unavailable; Client host [203.0.113.66] blocked using bl.lab.test; open relay" {
		t.Errorf("RejectText = %q", got)
	}
}
