package imap

import (
	"testing"
	"unicode/utf8"
)

func TestUTF7(t *testing.T) {
	cases := []struct{ utf8, utf7 string }{
		{"INBOX", "INBOX"},
		{"Entwürfe", "Entw&APw-rfe"},
		{"a&b", "a&-b"},
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
		{"Gelöschte Elemente", "Gel&APY-schte Elemente"},
		{"😀", "&2D3eAA-"},
		{"äö", "&AOQA9g-"},
	}
	for _, tc := range cases {
		if got := EncodeUTF7(tc.utf8); got != tc.utf7 {
			t.Errorf("EncodeUTF7(%q) = %q, want %q", tc.utf8, got, tc.utf7)
		}
		if got, err := DecodeUTF7(tc.utf7); err != nil || got != tc.utf8 {
			t.Errorf("DecodeUTF7(%q) = %q, %v, want %q", tc.utf7, got, err, tc.utf8)
		}
	}
	for _, bad := range []string{"a\x01b", "&", "&AOQ", "&Jjo!", "&AGE-", "&AOQ-&APY-", "&2D0-", "caf\xc3\xa9", "&AOR-"} {
		if got, err := DecodeUTF7(bad); err == nil {
			t.Errorf("DecodeUTF7(%q) = %q, want an error", bad, got)
		}
	}
}

// FuzzUTF7 checks that decoding never panics, that whatever decodes
// re-encodes to the same octets (the form is canonical), and that every
// UTF-8 name survives a round trip.
func FuzzUTF7(f *testing.F) {
	for _, s := range []string{"Entw&APw-rfe", "a&-b", "&2D3eAA-", "&", "&AOQ-&APY-", "Entwürfe", "INBOX.Archive"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if dec, err := DecodeUTF7(s); err == nil {
			if !utf8.ValidString(dec) {
				t.Fatalf("DecodeUTF7(%q) = %q: not UTF-8", s, dec)
			}
			if enc := EncodeUTF7(dec); enc != s {
				t.Fatalf("EncodeUTF7(DecodeUTF7(%q)) = %q", s, enc)
			}
		}
		if utf8.ValidString(s) {
			enc := EncodeUTF7(s)
			if dec, err := DecodeUTF7(enc); err != nil || dec != s {
				t.Fatalf("DecodeUTF7(EncodeUTF7(%q)=%q) = %q, %v", s, enc, dec, err)
			}
		}
	})
}
