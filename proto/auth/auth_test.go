package auth

import (
	"strings"
	"testing"
)

func TestAligned(t *testing.T) {
	for _, tc := range []struct {
		d, from, mode string
		want          bool
	}{
		{"crepes.test", "crepes.test", "s", true},
		{"mail.crepes.test", "crepes.test", "r", true},
		{"mail.crepes.test", "crepes.test", "s", false},
		{"hamburger.test", "crepes.test", "r", false},
		{"a.example.co.uk", "b.example.co.uk", "r", true},
		{"example.co.uk", "other.co.uk", "r", false},
		{"", "crepes.test", "r", false},
	} {
		if got := Aligned(tc.d, tc.from, tc.mode); got != tc.want {
			t.Errorf("Aligned(%q, %q, %q) = %v, want %v", tc.d, tc.from, tc.mode, got, tc.want)
		}
	}
}

// TestCanonicalBody checks RFC 6376 §3.4.5's example.
func TestCanonicalBody(t *testing.T) {
	body := " C \r\nD \t E\r\n\r\n\r\n"
	if got := string(CanonicalBody([]byte(body), "relaxed")); got != " C\r\nD E\r\n" {
		t.Errorf("relaxed = %q", got)
	}
	if got := string(CanonicalBody([]byte(body), "simple")); got != " C \r\nD \t E\r\n" {
		t.Errorf("simple = %q", got)
	}
	if got := string(CanonicalBody(nil, "simple")); got != "\r\n" {
		t.Errorf("simple of an empty body = %q, want CRLF (RFC 6376 §3.4.3)", got)
	}
	if got := CanonicalBody(nil, "relaxed"); len(got) != 0 {
		t.Errorf("relaxed of an empty body = %q, want nothing (RFC 6376 §3.4.4)", got)
	}
}

func TestResultsFieldRoundTrip(t *testing.T) {
	v := Verdicts{
		SPF:   SPF{Result: "fail", Identity: "mailfrom", Sender: "alice@crepes.test", IP: "203.0.113.66", Domain: "crepes.test"},
		DKIM:  DKIM{Result: "none"},
		DMARC: DMARC{Result: "fail", Policy: "quarantine", Disposition: "quarantine", FromDomain: "crepes.test"},
	}
	f := ResultsField("mx.hamburger.test", v)
	name, value, _ := strings.Cut(f, ":")
	if name != "Authentication-Results" {
		t.Fatalf("field %q", f)
	}
	id, res, err := ParseResults(strings.Join(strings.Fields(value), " "))
	if err != nil {
		t.Fatalf("ParseResults(%q): %v", value, err)
	}
	if id != "mx.hamburger.test" || res["spf"] != "fail" || res["dkim"] != "none" || res["dmarc"] != "fail" {
		t.Errorf("parsed %q %v from %q", id, res, f)
	}
}

func TestStripForged(t *testing.T) {
	h := "Authentication-Results: mx.hamburger.test; spf=pass\r\n\tdkim=pass\r\nAuthentication-Results: mx.other.test; spf=fail\r\nFrom: a@b.test\r\n"
	out, n := StripForged([]byte(h), "MX.hamburger.test")
	if n != 1 || string(out) != "Authentication-Results: mx.other.test; spf=fail\r\nFrom: a@b.test\r\n" {
		t.Errorf("StripForged = %q, %d", out, n)
	}
}

func TestParseSPFExplains(t *testing.T) {
	terms, err := ParseSPF("v=spf1 ip4:192.0.2.0/24 include:_spf.example.test ~all redirect=x.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(terms) != 4 || terms[0].Name != "ip4" || terms[1].Name != "include" || terms[2].Qualifier != "~" || !terms[3].Modifier {
		t.Errorf("terms = %+v", terms)
	}
	for _, bad := range []string{"", "v=spf2 -all", "v=spf1 ip4:300.1.1.1 -all", "v=spf1 ip6:192.0.2.1 -all", "v=spf1 foo -all", "v=spf1 redirect=a redirect=b"} {
		if _, err := ParseSPF(bad); err == nil {
			t.Errorf("ParseSPF(%q) accepted", bad)
		}
	}
}

func TestParseTags(t *testing.T) {
	tags, err := ParseTags(" v=1;\r\n\ta=rsa-sha256 ; d = crepes.test;\r\n b=ab\r\n cd;")
	if err != nil {
		t.Fatal(err)
	}
	if TagValue(tags, "d") != "crepes.test" || TagValue(tags, "a") != "rsa-sha256" || stripFWS(TagValue(tags, "b")) != "abcd" {
		t.Errorf("tags = %+v", tags)
	}
	for _, bad := range []string{"v=1; v=1", "novalue", "1a=x", "=x"} {
		if _, err := ParseTags(bad); err == nil {
			t.Errorf("ParseTags(%q) accepted", bad)
		}
	}
}

func TestEnvelopeFromTrace(t *testing.T) {
	h := "Return-Path: <alice@crepes.test>\r\nReceived: from mx.crepes.test ([192.0.2.10])\r\n\tby mx.hamburger.test (mailx) with ESMTPS id 1;\r\n\tMon, 07 Dec 2026 22:26:57 +0000\r\nReceived: from laptop ([127.0.0.1]) by mx.crepes.test\r\n"
	e := EnvelopeFromTrace(Fields([]byte(h)))
	if e.IP != "192.0.2.10" || e.Helo != "mx.crepes.test" || e.MailFrom != "alice@crepes.test" {
		t.Errorf("envelope = %+v", e)
	}
}
