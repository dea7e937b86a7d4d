package auth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"

	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"
)

// DMARC is the verdict of a DMARC evaluation (RFC 7489) with its reasons.
type DMARC struct {
	Result       string   `json:"result"`                  // pass, fail, none, temperror, permerror
	FromDomain   string   `json:"from_domain"`             // RFC5322.From domain
	OrgDomain    string   `json:"organizational_domain"`   // from the Public Suffix List
	RecordDomain string   `json:"record_domain,omitempty"` // where the record was found: _dmarc.FROM or _dmarc.ORG
	Record       string   `json:"record,omitempty"`
	Policy       string   `json:"policy,omitempty"`      // p= (or sp= for a subdomain using the organisation's record)
	Disposition  string   `json:"disposition,omitempty"` // what the receiver does: none, quarantine, reject
	ADKIM        string   `json:"adkim,omitempty"`       // "r" relaxed or "s" strict
	ASPF         string   `json:"aspf,omitempty"`
	Percent      int      `json:"pct,omitempty"`
	SPFDomain    string   `json:"spf_domain,omitempty"`
	SPFResult    string   `json:"spf_result,omitempty"`
	SPFAligned   bool     `json:"spf_aligned"`
	DKIMDomains  []string `json:"dkim_pass_domains,omitempty"`
	DKIMAligned  bool     `json:"dkim_aligned"`
	DKIMDomain   string   `json:"dkim_aligned_domain,omitempty"`
	Reasons      []string `json:"reasons"`
	Error        string   `json:"error,omitempty"`
}

// OrgDomain returns the organisational domain of name (RFC 7489 §3.2): the
// registrable domain, one label below its public suffix. The lab's .test
// names are not in the Public Suffix List, whose default rule then treats
// "test" as the suffix, so crepes.test is its own organisation.
func OrgDomain(name string) string {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if d, err := publicsuffix.EffectiveTLDPlusOne(name); err == nil {
		return d
	}
	return name
}

// Aligned reports whether domain is aligned with the From domain in mode
// "s" (identical) or "r" (same organisational domain), RFC 7489 §3.1.
func Aligned(domain, from, mode string) bool {
	domain, from = strings.ToLower(domain), strings.ToLower(from)
	if domain == "" || from == "" {
		return false
	}
	if mode == "s" {
		return domain == from
	}
	return OrgDomain(domain) == OrgDomain(from)
}

// CheckDMARC looks up the From domain's DMARC policy and decides whether the
// message passes: SPF or DKIM must pass for a domain aligned with From.
// header is the message's header section.
func CheckDMARC(ctx context.Context, r Resolver, fields []Field, spf SPF, d DKIM) DMARC {
	out := DMARC{Result: "none", Reasons: []string{}, SPFDomain: spf.Domain, SPFResult: spf.Result, DKIMDomains: d.Passing()}
	from, problem := FromDomain(fields)
	if problem != "" {
		out.Result, out.Error = "permerror", problem
		out.Reasons = append(out.Reasons, problem+": DMARC needs exactly one author domain (RFC 7489 §6.6.1)")
		return out
	}
	out.FromDomain, out.OrgDomain = from, OrgDomain(from)
	rec, where, raw, err := lookupDMARC(ctx, r, from)
	if err == nil && rec == nil && out.OrgDomain != from {
		rec, where, raw, err = lookupDMARC(ctx, r, out.OrgDomain)
	}
	switch {
	case isTemp(err):
		out.Result, out.Error = "temperror", err.Error()
		out.Reasons = append(out.Reasons, "the DMARC record could not be fetched: "+err.Error())
		return out
	case err != nil:
		out.Result, out.Error = "permerror", err.Error()
		out.Reasons = append(out.Reasons, "the DMARC record is malformed: "+err.Error())
		return out
	case rec == nil:
		out.Reasons = append(out.Reasons, "no DMARC record at _dmarc."+from+" nor at _dmarc."+out.OrgDomain+": the domain publishes no policy")
		return out
	}
	out.RecordDomain, out.Record = where, raw
	out.Policy = string(rec.Policy)
	if where != "_dmarc."+from && rec.SubdomainPolicy != "" {
		out.Policy = string(rec.SubdomainPolicy)
	}
	out.ADKIM, out.ASPF = string(rec.DKIMAlignment), string(rec.SPFAlignment)
	if out.ADKIM == "" {
		out.ADKIM = "r"
	}
	if out.ASPF == "" {
		out.ASPF = "r"
	}
	out.Percent = 100
	if rec.Percent != nil {
		out.Percent = *rec.Percent
	}
	mode := map[string]string{"r": "relaxed: same organisational domain", "s": "strict: identical domain"}
	if spf.Result == "pass" {
		out.SPFAligned = Aligned(spf.Domain, from, out.ASPF)
		if out.SPFAligned {
			out.Reasons = append(out.Reasons, "SPF passed for "+spf.Domain+", aligned with From "+from+" ("+mode[out.ASPF]+")")
		} else {
			out.Reasons = append(out.Reasons, "SPF passed for "+spf.Domain+", but that is not aligned with From "+from+" ("+mode[out.ASPF]+")")
		}
	} else {
		out.Reasons = append(out.Reasons, "SPF did not pass ("+spf.Result+" for "+orNone(spf.Domain)+"): it cannot count for DMARC")
	}
	for _, dd := range out.DKIMDomains {
		if Aligned(dd, from, out.ADKIM) {
			out.DKIMAligned, out.DKIMDomain = true, dd
			break
		}
	}
	switch {
	case out.DKIMAligned:
		out.Reasons = append(out.Reasons, "a DKIM signature of "+out.DKIMDomain+" passed, aligned with From "+from+" ("+mode[out.ADKIM]+")")
	case len(out.DKIMDomains) > 0:
		out.Reasons = append(out.Reasons, "DKIM passed only for "+strings.Join(out.DKIMDomains, ", ")+", not aligned with From "+from)
	default:
		out.Reasons = append(out.Reasons, "no DKIM signature passed")
	}
	if out.SPFAligned || out.DKIMAligned {
		out.Result, out.Disposition = "pass", "none"
		return out
	}
	out.Result, out.Disposition = "fail", out.Policy
	out.Reasons = append(out.Reasons, "neither SPF nor DKIM passed aligned with "+from+": DMARC fails, and the domain asks receivers to apply p="+out.Policy)
	if out.Percent < 100 && out.Policy != "none" && rand.IntN(100) >= out.Percent {
		// RFC 7489 §6.6.4: a message not selected by pct= gets the next
		// policy down (reject → quarantine, quarantine → none).
		lower := map[string]string{"reject": "quarantine", "quarantine": "none"}[out.Policy]
		out.Reasons = append(out.Reasons, fmt.Sprintf("pct=%d: this message was not among the %d%% the policy applies to, so the next policy down applies: %s (RFC 7489 §6.6.4)", out.Percent, out.Percent, lower))
		out.Disposition = lower
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "no domain"
	}
	return s
}

// lookupDMARC fetches and parses the record at _dmarc.domain; a nil record
// and nil error mean there is none.
func lookupDMARC(ctx context.Context, r Resolver, domain string) (*dmarc.Record, string, string, error) {
	name := "_dmarc." + domain
	txts, err := r.LookupTXT(ctx, name)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			return nil, "", "", nil
		}
		return nil, "", "", tempErr{err}
	}
	for _, t := range txts {
		if !strings.HasPrefix(strings.TrimSpace(t), "v=DMARC1") {
			continue
		}
		rec, err := dmarc.Parse(t)
		if err != nil {
			return nil, name, t, err
		}
		return rec, name, t, nil
	}
	return nil, "", "", nil
}

// tempErr marks a DNS failure as temporary for dmarc.IsTempFail's test.
type tempErr struct{ err error }

func (e tempErr) Error() string   { return "DNS lookup failed: " + e.err.Error() }
func (e tempErr) Temporary() bool { return true }

func isTemp(err error) bool {
	var t tempErr
	return errors.As(err, &t)
}
