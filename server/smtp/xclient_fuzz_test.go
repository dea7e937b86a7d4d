package smtp

import (
	"strings"
	"testing"
)

// FuzzXtextDecode: XCLIENT values are xtext (RFC 3461 §4); decoding never
// panics, and plain printable text without '+' or '=' decodes to itself.
func FuzzXtextDecode(f *testing.F) {
	for _, s := range []string{"203.0.113.66", "IPV6:2001:db8::1", "mx.spammer.test", "a+2Bb", "+", "+4", "[UNAVAILABLE]", "x+ZZ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := xtextDecode(s)
		if err != nil {
			return
		}
		if !strings.Contains(s, "+") && out != s {
			t.Fatalf("xtextDecode(%q) = %q", s, out)
		}
		if len(out) > len(s) {
			t.Fatalf("xtextDecode(%q) grew to %q", s, out)
		}
	})
}
