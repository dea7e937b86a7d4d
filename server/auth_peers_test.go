package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailx-edu/mailx/proto/auth"
	"github.com/mailx-edu/mailx/proto/mx"
	"github.com/mailx-edu/mailx/server/labdns"
)

// Sender authentication checked against independent implementations:
// dkimpy (Debian python3-dkim) and pyspf (Debian python3-spf), both asking
// an in-process lab DNS on loopback through dnspython.

// debianPython is Debian's interpreter, which has the packages' modules
// (a python3 earlier in PATH, such as pyenv's, would not).
const debianPython = "/usr/bin/python3"

// peerScript runs one operation with the Debian modules; its input is JSON
// on stdin, its output JSON on stdout.
const peerScript = `
import sys, json
import dns.resolver
cfg = json.load(sys.stdin)
r = dns.resolver.Resolver(configure=False)
r.nameservers = ['127.0.0.1']
r.port = cfg['port']
r.lifetime = 5
dns.resolver.default_resolver = r
op = cfg['op']
if op == 'dkim-verify':
    import dkim
    d = dkim.DKIM(cfg['msg'].encode())
    out = []
    for i in range(cfg['n']):
        try:
            out.append(bool(d.verify(idx=i)))
        except dkim.ValidationError:
            out.append(False)
    print(json.dumps(out))
elif op == 'dkim-sign':
    import dkim
    sig = dkim.sign(cfg['msg'].encode(), cfg['selector'].encode(), cfg['domain'].encode(), cfg['key'].encode(),
                    canonicalize=(cfg['hc'].encode(), cfg['bc'].encode()), signature_algorithm=cfg['alg'].encode(),
                    include_headers=[b'from', b'to', b'subject', b'date'])
    print(json.dumps(sig.decode()))
elif op == 'spf':
    import spf
    print(json.dumps([spf.check2(i=c['ip'], s=c['sender'], h=c['helo'])[0] for c in cfg['cases']]))
`

func runPeer(t *testing.T, module, pkg string, in map[string]any, out any) {
	t.Helper()
	if err := exec.Command(debianPython, "-c", "import dns.resolver, "+module).Run(); err != nil {
		t.Skipf("%s with the %s module is not available: install the Debian package %s (and python3-dnspython)", debianPython, module, pkg)
	}
	b, _ := json.Marshal(in)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianPython, "-c", peerScript)
	cmd.Stdin = bytes.NewReader(b)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	res, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", module, err, stderr.String())
	}
	if err := json.Unmarshal(res, out); err != nil {
		t.Fatalf("%s output %q: %v", module, res, err)
	}
}

// peerDNS starts a lab DNS with zone domain holding records.
func peerDNS(t *testing.T, zones ...labdns.Zone) (*labdns.Server, int) {
	t.Helper()
	s, err := labdns.Start(labdns.Config{Addr: "127.0.0.1:0", Zones: zones})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	_, port, _ := net.SplitHostPort(s.Addr())
	p, _ := strconv.Atoi(port)
	return s, p
}

const peerMessage = "From: Alice <alice@crepes.test>\r\nTo: Bob <bob@hamburger.test>\r\nSubject: signed twice\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\nMessage-ID: <peer1@crepes.test>\r\n\r\nHello Bob,\r\n  two  spaces and a trailing one \r\n\r\n\r\n"

func TestDKIMMailxSignedVerifiesInDkimpy(t *testing.T) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var extra []dns.RR
	for sel, pub := range map[string]any{"ed": edKey.Public(), "rsa": rsaKey.Public()} {
		rec, err := auth.KeyRecord(pub)
		if err != nil {
			t.Fatal(err)
		}
		extra = append(extra, txtRR(sel+"._domainkey.crepes.test", rec))
	}
	_, port := peerDNS(t, labdns.Zone{Domain: "crepes.test", Extra: extra})
	sigs, err := auth.SignDKIM([]byte(peerMessage), "crepes.test", []auth.SigningKey{{Selector: "ed", Signer: edKey}, {Selector: "rsa", Signer: rsaKey}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var got []bool
	runPeer(t, "dkim", "python3-dkim", map[string]any{"op": "dkim-verify", "port": port, "msg": sigs + peerMessage, "n": 2}, &got)
	if len(got) != 2 || !got[0] || !got[1] {
		t.Errorf("dkimpy verdicts on mailx's Ed25519 and RSA signatures = %v, want both true", got)
	}
	// A changed body must fail in dkimpy too: the test can tell.
	runPeer(t, "dkim", "python3-dkim", map[string]any{"op": "dkim-verify", "port": port, "msg": sigs + peerMessage + "footer\r\n", "n": 2}, &got)
	if got[0] || got[1] {
		t.Errorf("dkimpy accepted a changed body: %v", got)
	}
}

func TestDKIMDkimpySignedVerifiesInMailx(t *testing.T) {
	edPub, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	edRec, _ := auth.KeyRecord(edPub)
	rsaRec, _ := auth.KeyRecord(rsaKey.Public())
	dnsSrv, port := peerDNS(t, labdns.Zone{Domain: "crepes.test", Extra: []dns.RR{
		txtRR("py-ed._domainkey.crepes.test", edRec), txtRR("py-rsa._domainkey.crepes.test", rsaRec)}})
	res := &mx.Resolver{Server: dnsSrv.Addr()}
	rsaPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}))
	edSeed := base64.StdEncoding.EncodeToString(edKey.Seed())
	for _, tc := range []struct{ sel, alg, key, hc, bc string }{
		{"py-rsa", "rsa-sha256", rsaPEM, "relaxed", "relaxed"},
		{"py-rsa", "rsa-sha256", rsaPEM, "simple", "simple"},
		{"py-ed", "ed25519-sha256", edSeed, "relaxed", "simple"},
	} {
		t.Run(tc.alg+"/"+tc.hc+"/"+tc.bc, func(t *testing.T) {
			var sig string
			runPeer(t, "dkim", "python3-dkim", map[string]any{"op": "dkim-sign", "port": port, "msg": peerMessage,
				"selector": tc.sel, "domain": "crepes.test", "key": tc.key, "alg": tc.alg, "hc": tc.hc, "bc": tc.bc}, &sig)
			msg := []byte(strings.ReplaceAll(sig, "\n", "\r\n") + peerMessage)
			msg = bytes.ReplaceAll(msg, []byte("\r\r\n"), []byte("\r\n"))
			d := auth.VerifyDKIM(context.Background(), res, msg, true)
			if d.Result != "pass" || len(d.Signatures) != 1 || !d.Signatures[0].BodyHashMatches {
				t.Errorf("mailx's verdict on dkimpy's signature = %+v", d)
			}
			bad := auth.VerifyDKIM(context.Background(), res, append(msg, "footer\r\n"...), true)
			if bad.Result != "fail" || bad.Signatures[0].BodyHashMatches {
				t.Errorf("mailx's verdict on a changed body = %+v, want fail with a differing body hash", bad)
			}
		})
	}
}

// spfCase is one row of the SPF table.
type spfCase struct {
	name, ip, domain string
	want             string
}

func TestSPFAgreesWithPyspf(t *testing.T) {
	z := "spf.test"
	var rrs []dns.RR
	txt := func(name, v string) { rrs = append(rrs, txtRR(name+"."+z, v)) }
	a := func(name, ip string) {
		addr := netip.MustParseAddr(ip)
		if addr.Is4() {
			rrs = append(rrs, &dns.A{Hdr: rrHdr(name+"."+z, dns.TypeA), A: addr.AsSlice()})
		} else {
			rrs = append(rrs, &dns.AAAA{Hdr: rrHdr(name+"."+z, dns.TypeAAAA), AAAA: addr.AsSlice()})
		}
	}
	txt("ip4", "v=spf1 ip4:192.0.2.0/24 -all")
	txt("soft", "v=spf1 ip4:192.0.2.1 ~all")
	txt("neutral", "v=spf1 ?all")
	txt("a", "v=spf1 a -all")
	a("a", "192.0.2.10")
	txt("acidr", "v=spf1 a:host.spf.test/24 -all")
	a("host", "198.51.100.7")
	txt("mx", "v=spf1 mx -all")
	rrs = append(rrs, &dns.MX{Hdr: rrHdr("mx."+z, dns.TypeMX), Preference: 10, Mx: "mx1.spf.test."})
	a("mx1", "203.0.113.5")
	txt("ip6", "v=spf1 ip6:2001:db8::/32 -all")
	txt("inc", "v=spf1 include:inc-target.spf.test -all")
	txt("inc-target", "v=spf1 ip4:192.0.2.77 -all")
	txt("redir", "v=spf1 redirect=redir-target.spf.test")
	txt("redir-target", "v=spf1 ip4:198.51.100.0/24 ~all")
	txt("exists", "v=spf1 exists:%{i}.ex.spf.test -all")
	a("192.0.2.55.ex", "127.0.0.2")
	limit := "v=spf1"
	for i := 1; i <= 11; i++ {
		limit += " a:h" + strconv.Itoa(i) + ".spf.test"
		a("h"+strconv.Itoa(i), "10.0.0."+strconv.Itoa(i))
	}
	txt("limit", limit+" -all")
	txt("void", "v=spf1 a:v1.spf.test a:v2.spf.test a:v3.spf.test -all")
	a("nospf", "192.0.2.1")
	txt("two", "v=spf1 -all")
	txt("two", "v=spf1 +all")
	txt("syntax", "v=spf1 foo:bar -all")
	txt("incnone", "v=spf1 include:nospf.spf.test -all")
	cases := []spfCase{
		{"ip4 pass", "192.0.2.5", "ip4", "pass"},
		{"ip4 fail", "198.51.100.1", "ip4", "fail"},
		{"~all", "203.0.113.9", "soft", "softfail"},
		{"?all", "203.0.113.9", "neutral", "neutral"},
		{"a pass", "192.0.2.10", "a", "pass"},
		{"a fail", "192.0.2.11", "a", "fail"},
		{"a:host/24", "198.51.100.200", "acidr", "pass"},
		{"mx pass", "203.0.113.5", "mx", "pass"},
		{"mx fail", "203.0.113.6", "mx", "fail"},
		{"ip6 pass", "2001:db8::1", "ip6", "pass"},
		{"ip6 fail", "2001:db9::1", "ip6", "fail"},
		{"include pass", "192.0.2.77", "inc", "pass"},
		{"include fail", "192.0.2.78", "inc", "fail"},
		{"redirect pass", "198.51.100.3", "redir", "pass"},
		{"redirect softfail", "203.0.113.1", "redir", "softfail"},
		{"exists pass", "192.0.2.55", "exists", "pass"},
		{"exists fail", "192.0.2.56", "exists", "fail"},
		{"10-lookup limit", "192.0.2.99", "limit", "permerror"},
		{"void lookups", "192.0.2.99", "void", "permerror"},
		{"no record", "192.0.2.1", "nospf", "none"},
		{"no such domain", "192.0.2.1", "nosuch", "none"},
		{"two records", "192.0.2.1", "two", "permerror"},
		{"unknown mechanism", "192.0.2.1", "syntax", "permerror"},
		{"include of a domain without SPF", "192.0.2.1", "incnone", "permerror"},
	}
	dnsSrv, port := peerDNS(t, labdns.Zone{Domain: z, Records: rrs})
	var in []map[string]string
	for _, c := range cases {
		in = append(in, map[string]string{"ip": c.ip, "sender": "someone@" + c.domain + "." + z, "helo": "client.example.test"})
	}
	var theirs []string
	runPeer(t, "spf", "python3-spf", map[string]any{"op": "spf", "port": port, "cases": in}, &theirs)
	res := &mx.Resolver{Server: dnsSrv.Addr()}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ours := auth.CheckSPF(context.Background(), res, netip.MustParseAddr(c.ip), "client.example.test", "someone@"+c.domain+"."+z)
			if ours.Result != theirs[i] || ours.Result != c.want {
				t.Errorf("SPF for %s from %s: mailx %s, pyspf %s, want %s (steps: %v)", c.domain, c.ip, ours.Result, theirs[i], c.want, ours.Steps)
			}
		})
	}
}
