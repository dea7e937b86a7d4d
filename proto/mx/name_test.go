package mx_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/proto/mx"
)

func TestParseDomain(t *testing.T) {
	tests := []struct {
		in, ascii, unicode string
	}{
		{"example.com", "example.com", "example.com"},
		{"  Example.COM.  ", "example.com", "example.com"},
		{"bücher.test", "xn--bcher-kva.test", "bücher.test"},
		{"BÜCHER.test", "xn--bcher-kva.test", "bücher.test"},
		{"xn--bcher-kva.test", "xn--bcher-kva.test", "bücher.test"},
		{"例え.テスト", "xn--r8jz45g.xn--zckzah", "例え.テスト"},
		{"localhost", "localhost", "localhost"},
		{"a-b.c0", "a-b.c0", "a-b.c0"},
		{strings.Repeat("a", 63) + ".test", strings.Repeat("a", 63) + ".test", strings.Repeat("a", 63) + ".test"},
	}
	for _, tc := range tests {
		n, err := mx.ParseDomain(tc.in)
		if err != nil {
			t.Errorf("ParseDomain(%q): %v", tc.in, err)
			continue
		}
		if n.ASCII != tc.ascii || n.Unicode != tc.unicode || n.Input != tc.in {
			t.Errorf("ParseDomain(%q) = %+v, want ASCII %q Unicode %q", tc.in, n, tc.ascii, tc.unicode)
		}
	}
}

func TestParseDomainRejects(t *testing.T) {
	tests := []struct{ in, why string }{
		{"", "empty"},
		{".", "root"},
		{"a..b", "empty label"},
		{".example.com", "empty label"},
		{"bob@example.com", "the part after @ (example.com)"},
		{"192.0.2.1", "IP address"},
		{"2001:db8::1", "IP address"},
		{"[192.0.2.1]", "address literal"},
		{"exa mple.com", "only letters, digits and hyphens"},
		{"bü cher.test", "not allowed"},
		{"under_score.test", "only letters, digits and hyphens"},
		{"-lead.test", "hyphen"},
		{"trail-.test", "hyphen"},
		{strings.Repeat("a", 64) + ".test", "at most 63"},
		{strings.Repeat("abcdefghi.", 26) + "test", "at most 253"},
		{"xn--zz.test", "Punycode"},
	}
	for _, tc := range tests {
		n, err := mx.ParseDomain(tc.in)
		if err == nil {
			t.Errorf("ParseDomain(%q) = %+v, want an error", tc.in, n)
			continue
		}
		if !errors.Is(err, mx.ErrMalformed) {
			t.Errorf("ParseDomain(%q) error %v is not ErrMalformed", tc.in, err)
		}
		if !strings.Contains(err.Error(), tc.why) {
			t.Errorf("ParseDomain(%q) = %q, want it to mention %q", tc.in, err, tc.why)
		}
	}
}

func TestServerAddr(t *testing.T) {
	tests := []struct{ in, want, bad string }{
		{in: "127.0.0.1", want: "127.0.0.1:53"},
		{in: "127.0.0.1:5353", want: "127.0.0.1:5353"},
		{in: "::1", want: "[::1]:53"},
		{in: "[::1]", want: "[::1]:53"},
		{in: "[::1]:5353", want: "[::1]:5353"},
		{in: "ns1.example.test", want: "ns1.example.test:53"},
		{in: "ns1.example.test:54", want: "ns1.example.test:54"},
		{in: "", bad: "empty"},
		{in: "127.0.0.1:0", bad: "port"},
		{in: "127.0.0.1:dns", bad: "port"},
		{in: "127.0.0.1:70000", bad: "port"},
		{in: ":53", bad: "no host"},
		{in: "a:b:c", bad: "HOST:PORT"},
		{in: "bad_name", bad: "not a valid server name"},
	}
	for _, tc := range tests {
		got, err := mx.ServerAddr(tc.in)
		if tc.bad != "" {
			if err == nil || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("ServerAddr(%q) = %q, %v; want an error about %q", tc.in, got, err, tc.bad)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ServerAddr(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
