package queue

import "testing"

// TestRemoteMTAName: the Remote-MTA of a bounce is a host name, or the
// address without its port, never "127.0.0.1:33026" (RFC 3464 §2.3.5).
func TestRemoteMTAName(t *testing.T) {
	for in, want := range map[string]string{
		"mx.example.org[192.0.2.25:25]": "mx.example.org",
		"127.0.0.1:33026":               "127.0.0.1",
		"[2001:db8::1]:25":              "2001:db8::1",
		"mx.example.org":                "mx.example.org",
		"192.0.2.7":                     "192.0.2.7",
	} {
		if got := hostName(in); got != want {
			t.Errorf("hostName(%q) = %q, want %q", in, got, want)
		}
	}
}
