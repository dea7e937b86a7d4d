package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/miekg/dns"

	"github.com/mailx-edu/mailx/server/labdns"
)

// The lab's sender authentication: each lab domain gets its own address
// from the documentation ranges (RFC 5737), published at the domain's apex
// and announced by its relay client with XCLIENT; an SPF record allowing
// that address; its DKIM keys (Ed25519 and RSA-2048); and a DMARC policy.
// The lab DNS also serves the blocklist zone bl.lab.test (RFC 5782).

// LabBlocklist is the lab's DNS blocklist zone.
const LabBlocklist = "bl.lab.test"

// LabSpammer is the address lessons and scenarios use for a spammer: in
// TEST-NET-3, owned by no lab domain.
var LabSpammer = netip.MustParseAddr("203.0.113.66")

// labRanges are the RFC 5737 documentation networks, one per domain in turn.
var labRanges = [3][3]byte{{192, 0, 2}, {198, 51, 100}, {203, 0, 113}}

// LabAddr returns the lab address of the i-th lab domain: 192.0.2.10,
// 198.51.100.10, 203.0.113.10, then 192.0.2.11, and so on.
func LabAddr(i int) netip.Addr {
	r := labRanges[i%3]
	return netip.AddrFrom4([4]byte{r[0], r[1], r[2], byte(10 + i/3)})
}

// LabDMARC is the DMARC record every lab domain publishes: quarantine, so a
// forgery lands in Junk where a student can look at it.
const LabDMARC = "v=DMARC1; p=quarantine; adkim=r; aspf=r"

// LabSPF is the SPF record of a lab domain: its own address (the "a"
// mechanism: the domain's A record) and nothing else.
const LabSPF = "v=spf1 a -all"

// authConfig sets the i-th lab MTA's sender-authentication settings.
func (l *Lab) authConfig(c *Config, i int) {
	c.Spam.LabAddr = LabAddr(i)
	c.Spam.LabDomains, c.Spam.LabUsers = nil, map[string]string{}
	for _, d := range l.Domains {
		c.Spam.LabDomains = append(c.Spam.LabDomains, strings.ToLower(d.Domain))
		if len(d.Users) > 0 {
			c.Spam.LabUsers[strings.ToLower(d.Domain)] = d.Users[0].Name
		}
	}
	if len(c.Spam.DNSBL) == 0 {
		c.Spam.DNSBL = []DNSBLZone{{Zone: LabBlocklist}}
	}
	c.Spam.LabDNS = l.DNS
	c.Spam.LabBLFile = filepath.Join(filepath.Dir(c.Data), "blocklist.json")
}

// publishAuth publishes each domain's address, SPF, DKIM and DMARC records
// and the blocklist zone, and loads the blocklist kept from earlier runs.
func (l *Lab) publishAuth() error {
	zones := l.DNS.Zones()
	byName := map[string]int{}
	for i, z := range zones {
		byName[z.Domain] = i
	}
	for i, d := range l.Domains {
		name := strings.ToLower(d.Domain)
		zi, ok := byName[name]
		if !ok {
			continue
		}
		extra := []dns.RR{
			&dns.A{Hdr: rrHdr(name, dns.TypeA), A: LabAddr(i).AsSlice()},
			txtRR(name, LabSPF),
			txtRR("_dmarc."+name, LabDMARC),
		}
		for _, k := range l.MTAs[i].DKIMKeys() {
			extra = append(extra, txtRR(k.Name, k.Record))
		}
		zones[zi].Extra = extra
	}
	zones = append(zones, labdns.Zone{Domain: LabBlocklist, Blocklist: true})
	if err := l.DNS.SetZones(zones); err != nil {
		return err
	}
	if len(l.MTAs) > 0 {
		return loadBlocklist(l.DNS, l.MTAs[0].cfg.Spam.LabBLFile)
	}
	return nil
}

func rrHdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: dns.Fqdn(name), Rrtype: t, Class: dns.ClassINET, Ttl: labdns.DefaultTTL}
}

// txtRR makes a TXT record, splitting text into the 255-octet strings DNS
// allows (RFC 1035 §3.3.14); readers join them (RFC 7208 §3.3, RFC 6376
// §3.6.2.2), which is how an RSA-2048 key fits.
func txtRR(name, text string) *dns.TXT {
	var parts []string
	for len(text) > 255 {
		parts = append(parts, text[:255])
		text = text[255:]
	}
	parts = append(parts, text)
	return &dns.TXT{Hdr: rrHdr(name, dns.TypeTXT), Txt: parts}
}

// blocklistFile is the lab blocklist as kept between runs.
type blocklistFile struct {
	Entries []labdns.Entry `json:"entries"`
}

func loadBlocklist(s *labdns.Server, path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lab blocklist: %w", err)
	}
	var f blocklistFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("lab blocklist %s is damaged (%v): delete it to start with an empty list", path, err)
	}
	for _, e := range f.Entries {
		if !e.Test {
			s.List(LabBlocklist, e.Addr, e.Reason)
		}
	}
	return nil
}

func saveBlocklist(s *labdns.Server, path string) error {
	var f blocklistFile
	for _, e := range s.Listed(LabBlocklist) {
		if !e.Test {
			f.Entries = append(f.Entries, e)
		}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("lab blocklist: %w", err)
	}
	return os.Rename(tmp, path)
}
