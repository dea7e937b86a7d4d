package cmd

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailx-edu/mailx/proto/auth"
	"github.com/mailx-edu/mailx/server/labdns"
)

func txt(name, v string) dns.RR {
	return &dns.TXT{Hdr: dns.RR_Header{Name: dns.Fqdn(name), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{v}}
}

func startAuthDNS(t *testing.T, extra ...dns.RR) string {
	t.Helper()
	a := &dns.A{Hdr: dns.RR_Header{Name: "crepes.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: netip.MustParseAddr("192.0.2.10").AsSlice()}
	s, err := labdns.Start(labdns.Config{Addr: "127.0.0.1:0", Zones: []labdns.Zone{
		{Domain: "crepes.test", Extra: append([]dns.RR{a, txt("crepes.test", "v=spf1 a -all"), txt("_dmarc.crepes.test", "v=DMARC1; p=quarantine")}, extra...)},
		{Domain: "bl.lab.test", Blocklist: true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.List("bl.lab.test", netip.MustParseAddr("203.0.113.66"), "open relay abused"); err != nil {
		t.Fatal(err)
	}
	return s.Addr()
}

func TestDNSBLCheck(t *testing.T) {
	addr := startAuthDNS(t)
	out, _, code := runMX(t, "dnsbl", "check", "203.0.113.66", "--server", addr)
	if code != 0 || !strings.Contains(out, "66.113.0.203.bl.lab.test A?") || !strings.Contains(out, `TXT "open relay abused"`) ||
		!strings.Contains(out, "554 5.7.1 Service unavailable; Client host [203.0.113.66] blocked using bl.lab.test; open relay abused") {
		t.Errorf("listed address: exit %d\n%s", code, out)
	}
	out, _, code = runMX(t, "dnsbl", "check", "127.0.0.1", "--server", addr, "--json")
	var res []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res) != 1 || res[0]["listed"] != false {
		t.Errorf("127.0.0.1: exit %d\n%s", code, out)
	}
	_, errOut, code := runMX(t, "dnsbl", "check", "mail.example.test")
	if code != ExitUsage || !strings.Contains(errOut, "not an IP address") {
		t.Errorf("a host name: exit %d, %s", code, errOut)
	}
}

func TestAuthExplain(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	rec, _ := auth.KeyRecord(key.Public())
	addr := startAuthDNS(t, txt("ed._domainkey.crepes.test", rec))
	body := "From: Alice <alice@crepes.test>\r\nTo: bob@hamburger.test\r\nSubject: hi\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\nHello\r\n"
	sig, err := auth.SignDKIM([]byte(body), "crepes.test", []auth.SigningKey{{Selector: "ed", Signer: key}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	trace := "Return-Path: <alice@crepes.test>\r\nReceived: from mx.crepes.test ([192.0.2.10])\r\n\tby mx.hamburger.test (mailx) with ESMTPS id 1;\r\n\tMon, 07 Dec 2026 10:00:01 +0000\r\n"
	file := filepath.Join(t.TempDir(), "msg.eml")
	// Saved with bare LF, as a Unix mail program would.
	os.WriteFile(file, []byte(strings.ReplaceAll(trace+sig+body, "\r\n", "\n")), 0o600)
	out, errOut, code := runMX(t, "auth", "explain", file, "--server", addr)
	for _, want := range []string{"client address: 192.0.2.10", "record: v=spf1 a -all", "decided by: a", "body is exactly as signed", "ed25519, 256 bits", "spf=pass dkim=pass dmarc=pass"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("auth explain lacks %q (exit %d):\n%s%s", want, code, out, errOut)
		}
	}
	// The same message changed after signing and sent from elsewhere.
	os.WriteFile(file, []byte(trace+sig+body+"footer\r\n"), 0o600)
	out, _, code = runMX(t, "auth", "explain", file, "--server", addr, "--ip", "203.0.113.66", "--json")
	var rep auth.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, out)
	}
	if rep.Verdicts.SPF.Result != "fail" || rep.Verdicts.DKIM.Result != "fail" || rep.Verdicts.DKIM.Signatures[0].BodyHashMatches || rep.Verdicts.DMARC.Result != "fail" {
		t.Errorf("changed message: %+v", rep.Verdicts)
	}
}

func TestServeSpamFlags(t *testing.T) {
	_, errOut, code := runMX(t, "serve", "--dnsbl", "not a zone", "--data", t.TempDir())
	if code != ExitUsage || !strings.Contains(errOut, "is not a blocklist zone") {
		t.Errorf("--dnsbl with a bad zone: exit %d, %s", code, errOut)
	}
	_, errOut, code = runMX(t, "smtp", "talk", "127.0.0.1:1", "--as", "spammer")
	if code != ExitUsage || !strings.Contains(errOut, "--as \"spammer\" is not an IP address") {
		t.Errorf("--as with a name: exit %d, %s", code, errOut)
	}
	_, errOut, code = runMX(t, "serve", "blocklist", "add", "nope")
	if code != ExitUsage || !strings.Contains(errOut, "not an IP address") {
		t.Errorf("blocklist add nope: exit %d, %s", code, errOut)
	}
}
