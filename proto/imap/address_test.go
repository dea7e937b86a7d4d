package imap

import (
	"strings"
	"testing"
)

func TestParseAddressList(t *testing.T) {
	cases := []struct{ in, want string }{
		{"user@domain", "user@domain"},
		{"Real Name <user@domain>", "Real Name <user@domain>"},
		{`"Doe, John" <jd@x.test>, b@y.test`, "Doe, John <jd@x.test>|b@y.test"},
		{"user@domain (Real Name)", "Real Name <user@domain>"},
		{"<user-from (comment)@ (comment) domain.org>", "user-from@domain.org"},
		{"group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;", "group:|g1@d1.org|g2@d2.org|;|group2:|g3@d3.org|;"},
		{"group:;, group2: (foo) ;", "group:|;|group2:|;"},
		{"undisclosed-recipients:;", "undisclosed-recipients:|;"},
		{"team: a@x, b@y", "team:|a@x|b@y|;"},
		{"<@route:user@domain>", "user@domain"},
		{"=?utf-8?q?J=C3=BCrgen?= <j@x.test>", "=?utf-8?q?J=C3=BCrgen?= <j@x.test>"},
		{"Broken <a@b", "Broken <a@b>"},
		{"", ""},
		{",,,", ""},
	}
	for _, tc := range cases {
		var got []string
		for _, a := range ParseAddressList(tc.in) {
			got = append(got, a.String())
		}
		if g := strings.Join(got, "|"); g != tc.want {
			t.Errorf("ParseAddressList(%q) = %q, want %q", tc.in, g, tc.want)
		}
	}
}

// FuzzParseAddressList checks that any header value parses without
// panicking, within the entry limit, with groups balanced.
func FuzzParseAddressList(f *testing.F) {
	for _, s := range []string{"a@b", "g: a@b, c@d;", "\"q\\\"x\" <a@[1.2.3.4]>", "((((", "<@a,@b:c@d>", "x (y (z)) <a@b>", ":;:;<>@@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list := ParseAddressList(s)
		if len(list) > maxAddresses+1 {
			t.Fatalf("%d addresses", len(list))
		}
		depth := 0
		for _, a := range list {
			if a.Group && a.Mailbox != "" {
				depth++
			} else if a.IsGroupEnd() {
				depth--
			}
			if depth < 0 || depth > 1 {
				t.Fatalf("unbalanced groups in %q", s)
			}
		}
		if depth != 0 {
			t.Fatalf("unterminated group in %q", s)
		}
	})
}
