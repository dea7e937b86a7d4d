package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"

	"blitiri.com.ar/go/spf"
)

// Resolver is what the checks ask DNS. Its methods are *net.Resolver's, so
// the system resolver fits, and so does proto/mx.Resolver, which asks the lab
// DNS. Not-found answers are *net.DNSError with IsNotFound set.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// SPF is the verdict of an SPF check (RFC 7208) with the steps that led to it.
type SPF struct {
	Result   string   `json:"result"`   // none, neutral, pass, fail, softfail, temperror, permerror
	Identity string   `json:"identity"` // "mailfrom", or "helo" for the null sender (RFC 7208 §2.4)
	Domain   string   `json:"domain"`   // the domain whose record was checked
	Sender   string   `json:"sender"`   // the MAIL FROM address ("" for the null sender)
	Helo     string   `json:"helo,omitempty"`
	IP       string   `json:"ip"`                // the client address checked
	Record   string   `json:"record,omitempty"`  // the domain's SPF record, as found
	Matched  string   `json:"matched,omitempty"` // the term that decided, e.g. "-all" or "ip4:192.0.2.10"
	Steps    []string `json:"steps,omitempty"`   // the evaluation, step by step
	Error    string   `json:"error,omitempty"`   // what went wrong, for temperror and permerror
}

// CheckSPF checks whether ip may send mail for the MAIL FROM domain of
// sender, or for helo when sender is empty (the null sender of bounces).
func CheckSPF(ctx context.Context, r Resolver, ip netip.Addr, helo, sender string) SPF {
	out := SPF{Identity: "mailfrom", Sender: sender, Helo: helo, IP: ip.String()}
	mailFrom := sender
	if sender == "" {
		out.Identity = "helo"
		mailFrom = "postmaster@" + helo
	}
	out.Domain = DomainOf(mailFrom)
	if out.Domain == "" {
		out.Result = "none"
		out.Steps = append(out.Steps, "no domain to check: the HELO name is empty")
		return out
	}
	var steps []string
	trace := func(f string, a ...any) { steps = append(steps, fmt.Sprintf(f, a...)) }
	res, err := spf.CheckHostWithSender(net.IP(ip.Unmap().AsSlice()), helo, mailFrom,
		spf.WithContext(ctx), spf.WithResolver(r), spf.WithTraceFunc(trace))
	out.Result = string(res)
	if res == spf.None && out.Domain != "" && errors.Is(err, spf.ErrNoResult) {
		err = nil
	}
	if err != nil && !isMatch(err) && res != spf.Pass {
		out.Error = err.Error()
	}
	for _, s := range steps {
		if line, rec, ok := explainTrace(s); ok {
			out.Steps = append(out.Steps, line)
			if rec != "" && out.Record == "" {
				out.Record = rec
			}
		}
	}
	out.Matched = matchedTerm(steps)
	return out
}

func isMatch(err error) bool {
	for _, e := range []error{spf.ErrMatchedAll, spf.ErrMatchedA, spf.ErrMatchedIP, spf.ErrMatchedMX, spf.ErrMatchedPTR, spf.ErrMatchedExists} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

var (
	traceCheck   = regexp.MustCompile(`^check "([^"]*)" (\d+) (\d+)$`)
	traceRecord  = regexp.MustCompile(`^dns record "(.*)"$`)
	traceField   = regexp.MustCompile(`^"([^"]*)":? (\w+), (.*)$`)
	traceAll     = regexp.MustCompile(`^all: (\w+)$`)
	traceIPMatch = regexp.MustCompile(`^ip match: (.*)$`)
)

// explainTrace turns one line of the SPF library's trace into a sentence
// for people; ok is false for lines that add nothing. rec is the record
// when the line reports one.
func explainTrace(s string) (line, rec string, ok bool) {
	switch {
	case traceCheck.MatchString(s):
		m := traceCheck.FindStringSubmatch(s)
		return fmt.Sprintf("ask DNS for the TXT records of %s (DNS lookups so far: %s of 10, void lookups: %s of 2)", m[1], m[2], m[3]), "", true
	case traceRecord.MatchString(s):
		m := traceRecord.FindStringSubmatch(s)
		if m[1] == "" {
			return "no SPF record there (no TXT record starts with v=spf1)", "", true
		}
		return "SPF record: " + m[1], m[1], true
	case traceAll.MatchString(s):
		m := traceAll.FindStringSubmatch(s)
		return fmt.Sprintf("reached \"all\", which matches every address: result %s", m[1]), "", true
	case traceIPMatch.MatchString(s):
		return "address match: " + traceIPMatch.FindStringSubmatch(s)[1], "", true
	case traceField.MatchString(s):
		m := traceField.FindStringSubmatch(s)
		why := m[3]
		if why == "<nil>" {
			why = "no error"
		}
		return fmt.Sprintf("term %q decided: %s (%s)", m[1], m[2], why), "", true
	case strings.HasPrefix(s, "dns domain not found"):
		return "the domain has no TXT records (or does not exist): SPF result none", "", true
	case strings.HasPrefix(s, "dns temp error"):
		return "DNS failed temporarily: " + strings.TrimPrefix(s, "dns temp error: "), "", true
	case s == "multiple dns records":
		return "more than one SPF record: permerror (RFC 7208 §4.5 allows one)", "", true
	case s == "fallback to neutral":
		return "no term matched and there is no \"all\": result neutral (RFC 7208 §4.7)", "", true
	case s == "lookup limit reached":
		return "more than 10 terms needing DNS lookups: permerror (RFC 7208 §4.6.4)", "", true
	case s == "void lookup limit reached":
		return "more than 2 lookups found nothing: permerror (RFC 7208 §4.6.4)", "", true
	case strings.HasPrefix(s, "void lookup"):
		return "a void lookup (no answer): " + strings.TrimPrefix(s, "void lookup: "), "", true
	case strings.HasPrefix(s, "a match"):
		return "the client's address is one of the name's A/AAAA records", "", true
	case strings.HasPrefix(s, "mx match"):
		return "the client's address is one of a mail exchanger's addresses", "", true
	case strings.HasPrefix(s, "exists match"):
		return "the name built from the macro exists (it has an A record)", "", true
	case strings.HasPrefix(s, "ptr match"):
		return "the client's reverse DNS name is in the domain: " + strings.TrimPrefix(s, "ptr match: "), "", true
	case strings.HasPrefix(s, "mx ips"):
		return "the mail exchangers' addresses: " + strings.TrimPrefix(s, "mx ips: "), "", true
	case s == "too many redirects":
		return "more than one redirect=: permerror", "", true
	case s == "unknown field, permerror":
		return "a term mailx's SPF library does not know: permerror", "", true
	}
	return "", "", false
}

// matchedTerm returns the outermost term that decided, from the trace: the
// last field line, or "all".
func matchedTerm(steps []string) string {
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		if m := traceField.FindStringSubmatch(s); m != nil && strings.HasPrefix(m[3], "matched") {
			return m[1]
		}
		if m := traceAll.FindStringSubmatch(s); m != nil {
			return qualifierFor(m[1]) + "all"
		}
	}
	return ""
}

func qualifierFor(result string) string {
	switch result {
	case "fail":
		return "-"
	case "softfail":
		return "~"
	case "neutral":
		return "?"
	}
	return ""
}

// SPFTerm is one term of an SPF record (RFC 7208 §4.6.1): a mechanism with
// its qualifier, or a modifier.
type SPFTerm struct {
	Text      string `json:"text"`                // as written
	Qualifier string `json:"qualifier,omitempty"` // "+", "-", "~", "?" for mechanisms
	Name      string `json:"name"`                // "all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists", or a modifier name
	Value     string `json:"value,omitempty"`     // what follows ":" or "=" (domain-spec, address, CIDR)
	Modifier  bool   `json:"modifier,omitempty"`  // redirect=, exp= or an unknown modifier
	Meaning   string `json:"meaning"`             // one sentence
}

// maxSPFRecord bounds what ParseSPF reads: a TXT record's strings joined can
// be long, but a record past 4 KiB is not one a sender publishes.
const maxSPFRecord = 4096

// ParseSPF splits an SPF record into its terms and says what each means.
// It checks the syntax (RFC 7208 §12) closely enough to point at a bad
// term; the evaluation itself is the SPF library's.
func ParseSPF(record string) ([]SPFTerm, error) {
	if len(record) > maxSPFRecord {
		return nil, fmt.Errorf("spf: record of %d octets is longer than %d", len(record), maxSPFRecord)
	}
	f := strings.Fields(record)
	if len(f) == 0 || !strings.EqualFold(f[0], "v=spf1") {
		return nil, errors.New(`spf: the record does not start with "v=spf1"`)
	}
	var out []SPFTerm
	redirects := 0
	for _, t := range f[1:] {
		term := SPFTerm{Text: t}
		body := t
		if strings.ContainsAny(t[:1], "+-~?") {
			term.Qualifier, body = t[:1], t[1:]
		}
		name, value := body, ""
		if i := strings.IndexAny(body, ":/="); i >= 0 {
			name, value = body[:i], body[i:]
		}
		lname := strings.ToLower(name)
		if strings.HasPrefix(value, "=") {
			if term.Qualifier != "" || !validModifierName(name) {
				return nil, fmt.Errorf("spf: %q is not a valid modifier", t)
			}
			term.Modifier, term.Name, term.Value = true, lname, value[1:]
			switch lname {
			case "redirect":
				redirects++
				if redirects > 1 {
					return nil, errors.New("spf: more than one redirect= modifier")
				}
				term.Meaning = "if no mechanism matches, use the record of " + term.Value + " instead"
			case "exp":
				term.Meaning = "the explanation for a fail is in the TXT record of " + term.Value
			default:
				term.Meaning = "an unknown modifier, ignored (RFC 7208 §6)"
			}
			out = append(out, term)
			continue
		}
		term.Name = lname
		if strings.HasPrefix(value, ":") {
			term.Value = value[1:]
		} else {
			term.Value = value
		}
		q := term.Qualifier
		if q == "" {
			q = "+"
		}
		verdict := map[string]string{"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}[q]
		switch lname {
		case "all":
			if value != "" {
				return nil, fmt.Errorf("spf: %q: all takes no argument", t)
			}
			term.Meaning = "every address matches: " + verdict + " for anything not matched before"
		case "include":
			if term.Value == "" {
				return nil, fmt.Errorf("spf: %q: include needs a domain", t)
			}
			term.Meaning = "if " + term.Value + "'s own record passes this address: " + verdict
		case "a", "mx":
			what := map[string]string{"a": "an address (A/AAAA) of ", "mx": "an address of a mail exchanger (MX) of "}[lname]
			d := "the domain itself"
			if term.Value != "" && !strings.HasPrefix(term.Value, "/") {
				d = strings.SplitN(term.Value, "/", 2)[0]
			}
			term.Meaning = "if the client is " + what + d + ": " + verdict
		case "ptr":
			term.Meaning = "if the client's reverse DNS name ends in the domain (slow; RFC 7208 §5.5 says do not use): " + verdict
		case "ip4", "ip6":
			p := term.Value
			if !strings.Contains(p, "/") {
				if lname == "ip4" {
					p += "/32"
				} else {
					p += "/128"
				}
			}
			pfx, err := netip.ParsePrefix(p)
			if err != nil || (lname == "ip4") != pfx.Addr().Is4() {
				return nil, fmt.Errorf("spf: %q: %s needs an IPv%s address or network", t, lname, lname[2:])
			}
			term.Meaning = "if the client's address is in " + pfx.String() + ": " + verdict
		case "exists":
			if term.Value == "" {
				return nil, fmt.Errorf("spf: %q: exists needs a domain", t)
			}
			term.Meaning = "if the name " + term.Value + " (macros expanded) has an A record: " + verdict
		default:
			return nil, fmt.Errorf("spf: unknown mechanism %q (permerror)", t)
		}
		out = append(out, term)
	}
	return out, nil
}

func validModifierName(n string) bool {
	if n == "" {
		return false
	}
	for i, c := range n {
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alpha && (i == 0 || !(c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')) {
			return false
		}
	}
	return true
}
