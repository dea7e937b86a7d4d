package auth

import (
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// Verdicts are the three checks of one message.
type Verdicts struct {
	SPF   SPF   `json:"spf"`
	DKIM  DKIM  `json:"dkim"`
	DMARC DMARC `json:"dmarc"`
}

// ResultsField formats the Authentication-Results field (RFC 8601) that
// authservID (the receiving host's name) adds, folded one method per line
// and CRLF-terminated:
//
//	Authentication-Results: mx.hamburger.test;
//		spf=pass smtp.mailfrom=alice@crepes.test;
//		dkim=pass header.d=crepes.test header.s=ed1 header.b=Jc2aR1Fd;
//		dmarc=pass (p=quarantine) header.from=crepes.test
func ResultsField(authservID string, v Verdicts) string {
	var parts []string
	spf := "spf=" + v.SPF.Result
	if v.SPF.Identity == "helo" {
		spf += " smtp.helo=" + value(v.SPF.Helo)
	} else {
		spf += " smtp.mailfrom=" + value(v.SPF.Sender)
	}
	if v.SPF.Result != "none" && v.SPF.IP != "" {
		spf = "spf=" + v.SPF.Result + " (" + v.SPF.IP + " is " + spfComment(v.SPF.Result) + ")" + spf[len("spf="+v.SPF.Result):]
	}
	parts = append(parts, spf)
	if len(v.DKIM.Signatures) == 0 {
		parts = append(parts, "dkim=none")
	}
	for _, s := range v.DKIM.Signatures {
		p := "dkim=" + s.Result
		if s.Result != "pass" && s.Error != "" {
			p += " (" + commentText(s.Error) + ")"
		}
		if s.Domain != "" {
			p += " header.d=" + value(s.Domain)
		}
		if s.Selector != "" {
			p += " header.s=" + value(s.Selector)
		}
		if s.Algorithm != "" {
			p += " header.a=" + value(s.Algorithm)
		}
		if s.Short != "" {
			p += " header.b=" + value(s.Short)
		}
		parts = append(parts, p)
	}
	dm := "dmarc=" + v.DMARC.Result
	if v.DMARC.Policy != "" {
		dm += " (p=" + v.DMARC.Policy + " dis=" + strings.ToUpper(orDash(v.DMARC.Disposition)) + ")"
	}
	if v.DMARC.FromDomain != "" {
		dm += " header.from=" + value(v.DMARC.FromDomain)
	}
	parts = append(parts, dm)
	return "Authentication-Results: " + authservID + ";\r\n\t" + strings.Join(parts, ";\r\n\t") + "\r\n"
}

func orDash(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func spfComment(result string) string {
	switch result {
	case "pass":
		return "permitted by the domain's SPF record"
	case "fail":
		return "not permitted by the domain's SPF record"
	case "softfail":
		return "probably not permitted (~all)"
	case "neutral":
		return "neither permitted nor forbidden"
	case "temperror":
		return "not checked: DNS failed temporarily"
	case "permerror":
		return "not checked: the SPF record is broken"
	}
	return result
}

// value quotes a property value when RFC 8601's grammar needs it.
func value(s string) string {
	if s == "" {
		return `""`
	}
	if strings.ContainsAny(s, " \t()<>,;:\\\"/[]?=") && !strings.Contains(s, "@") {
		return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
	}
	if strings.ContainsAny(s, " \t()<>,;\\\"[]") {
		return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
	}
	return s
}

// commentText makes s safe inside an RFC 5322 comment.
func commentText(s string) string {
	s = strings.NewReplacer("(", "[", ")", "]", "\\", "/", "\r", " ", "\n", " ").Replace(s)
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// StripForged returns header without the Authentication-Results fields that
// claim to come from authservID: a receiver must remove those before adding
// its own, or a sender could forge a pass (RFC 8601 §5). removed counts them.
func StripForged(header []byte, authservID string) (out []byte, removed int) {
	fields := Fields(header)
	hasAR := false
	for _, f := range fields {
		if strings.EqualFold(f.Name, "Authentication-Results") {
			hasAR = true
		}
	}
	if !hasAR {
		return header, 0
	}
	var b strings.Builder
	// Keep anything Fields skipped (it never is, for a received header
	// section) by rebuilding from the raw fields.
	for _, f := range fields {
		if strings.EqualFold(f.Name, "Authentication-Results") && strings.EqualFold(ResultsID(f.Value), authservID) {
			removed++
			continue
		}
		b.WriteString(f.Raw)
	}
	return []byte(b.String()), removed
}

// ResultsID returns the authserv-id of an Authentication-Results value.
func ResultsID(v string) string {
	id, _, err := authres.Parse(v)
	if err != nil {
		id, _, _ = strings.Cut(v, ";")
		if i := strings.IndexAny(id, " \t("); i >= 0 {
			id = id[:i]
		}
	}
	return strings.ToLower(strings.TrimSpace(id))
}

// ParseResults reads an Authentication-Results value into its authserv-id
// and each method's result ("spf" → "pass"), for display.
func ParseResults(v string) (id string, results map[string]string, err error) {
	id, rs, err := authres.Parse(v)
	if err != nil {
		return "", nil, err
	}
	results = map[string]string{}
	for _, r := range rs {
		switch r := r.(type) {
		case *authres.SPFResult:
			results["spf"] = string(r.Value)
		case *authres.DKIMResult:
			if results["dkim"] != "pass" {
				results["dkim"] = string(r.Value)
			}
		case *authres.DMARCResult:
			results["dmarc"] = string(r.Value)
		case *authres.GenericResult:
			results[r.Method] = string(r.Value)
		}
	}
	return id, results, nil
}
