package mx

import (
	"fmt"
	"strings"
	"time"
)

// explainResult adds the notes that explain a finished lookup, in the order a
// reader meets the things they explain: the name, the answer, the addresses,
// the rule.
func explainResult(res *Result) {
	d := res.Domain
	if d.IDN() {
		res.explain(TopicIDN, fmt.Sprintf("%s is an internationalized domain name; DNS carries it as %s", d.Unicode, d.ASCII),
			"Each label with non-ASCII letters becomes an A-label: \"xn--\" and the label in Punycode. Mail software converts the name before asking DNS; people see the Unicode form.",
			"RFC 5890 §2.3.2.1, RFC 3492")
	}
	if n := len(res.Aliases); n > 0 {
		res.explain(TopicAlias, fmt.Sprintf("%s is an alias (CNAME) for %s, so its MX records are looked up there", d.ASCII, res.Canonical),
			"RFC 5321 §5.1: when a CNAME is found, \"the resulting name is processed as if it were the initial name\". Addresses in mail keep the name the sender wrote.",
			"RFC 5321 §5.1")
	}
	if res.Truncated {
		res.explain(TopicTruncated, "the UDP answer was truncated (TC flag), so the question was asked again over TCP",
			fmt.Sprintf("Over UDP an answer must fit in the size the client offers (mailx offers %d octets with EDNS0); a longer one comes with TC set, and TCP has no such limit.", ednsSize),
			"RFC 7766 §5, RFC 6891")
	}
	if res.Authoritative {
		res.explain(TopicAuthority, "authoritative answer (AA flag): it comes from a name server responsible for the zone",
			"", "RFC 1035 §4.1.1")
	} else {
		res.explain(TopicAuthority, "non-authoritative answer: a resolver answered, maybe from its cache",
			"The TTLs show how much longer it may keep each record; ask the zone's own name server with --server to see the original.",
			"RFC 1035 §4.1.1")
	}
	switch res.Rule {
	case RuleMX:
		res.explain(TopicPreference, preferenceSummary(res.Records),
			"A sending MTA tries the exchanger with the lowest preference first and moves to higher numbers only when it fails. Exchangers with equal preference are tried in random order, which spreads the load.",
			"RFC 5321 §5.1")
		res.explain(TopicTTL, ttlSummary(res.Records[0].TTL),
			"So a change to the MX records takes up to the TTL to reach every sender: lower the TTL a day before moving mail servers.",
			"RFC 1035 §3.2.1")
	case RuleNull:
		res.explain(TopicTTL, ttlSummary(res.Records[0].TTL), "", "RFC 1035 §3.2.1")
	}
	addrSources(res)
	switch res.Rule {
	case RuleMX:
		res.explain(TopicRule, fmt.Sprintf("mail for %s goes to its MX hosts, lowest preference first", d.Unicode),
			"The sender connects to port 25 of each address of the first exchanger, then of the next, until one accepts the message; when all fail, it keeps the message queued and retries later.",
			"RFC 5321 §5.1")
	case RuleImplicit:
		res.explain(TopicRule, fmt.Sprintf("implicit MX: %s has no MX record but has an address, so it is its own mail exchanger (preference 0)", d.Unicode),
			"RFC 5321 §5.1 keeps this rule for old domains. A domain that wants no mail must say so with a null MX; having no MX record is not enough.",
			"RFC 5321 §5.1")
	case RuleNull:
		res.explain(TopicRule, fmt.Sprintf("null MX: %s accepts no mail", d.Unicode),
			"The single record \"0 .\" says so explicitly: senders bounce a message for it at once (enhanced status 5.1.10) instead of retrying for days, and do not fall back to its address records.",
			"RFC 7505")
	}
}

// preferenceSummary explains preference using the numbers of this answer.
func preferenceSummary(recs []Record) string {
	count := map[uint16]int{}
	var prefs []uint16
	for _, r := range recs {
		if r.Exchange == "." {
			continue
		}
		if count[r.Preference] == 0 {
			prefs = append(prefs, r.Preference)
		}
		count[r.Preference]++
	}
	if len(prefs) == 0 {
		return "preference: lower numbers are tried first"
	}
	lowest := prefs[0]
	var equal []string
	for _, p := range prefs {
		if count[p] > 1 {
			equal = append(equal, fmt.Sprint(p))
		}
	}
	s := fmt.Sprintf("preference: lower is tried first, so %d goes first", lowest)
	if len(recs) == 1 {
		s = fmt.Sprintf("preference %d: with a single MX the number does not matter; with several, the lowest is tried first", lowest)
	}
	if len(equal) > 0 {
		s += fmt.Sprintf("; equal preferences (%s) are tried in random order", strings.Join(equal, ", "))
	}
	return s
}

// addrSources explains where the addresses shown came from.
func addrSources(res *Result) {
	var fromExtra, fromQuery bool
	for _, x := range res.Exchangers {
		for _, a := range x.Addresses {
			fromExtra = fromExtra || a.Source == SourceAdditional
			fromQuery = fromQuery || a.Source == SourceQuery
		}
	}
	const ref = "RFC 1035 §3.3.9, RFC 5321 §5.1"
	switch {
	case fromExtra && fromQuery:
		res.explain(TopicAddresses, "addresses marked \"additional\" came with the MX answer; those marked \"query\" were asked for separately",
			"Servers add the exchangers' A/AAAA records they know to the additional section, saving the client a query.", ref)
	case fromExtra:
		res.explain(TopicAddresses, "the addresses came with the MX answer, in its additional section",
			"Servers add the exchangers' A/AAAA records they know to the additional section, saving the client a query.", ref)
	case fromQuery:
		res.explain(TopicAddresses, "the addresses were asked for separately, with A and AAAA questions",
			"The MX answer carried no addresses in its additional section, so a sender asks for them itself.", ref)
	}
}

// ttlSummary explains a TTL with its value.
func ttlSummary(ttl uint32) string {
	if ttl == 0 {
		return "TTL 0: this answer must not be cached; every sender asks again each time"
	}
	return fmt.Sprintf("TTL %d: a resolver may keep this answer for %s before asking again", ttl, humanSeconds(ttl))
}

// humanSeconds writes a TTL as a person reads it: "1 hour", "5 minutes",
// "1 day 2 hours", "45 seconds".
func humanSeconds(ttl uint32) string {
	d := time.Duration(ttl) * time.Second
	units := []struct {
		name string
		size time.Duration
	}{{"day", 24 * time.Hour}, {"hour", time.Hour}, {"minute", time.Minute}, {"second", time.Second}}
	var parts []string
	for _, u := range units {
		if n := d / u.size; n > 0 && len(parts) < 2 {
			parts = append(parts, plural(int(n), u.name))
			d -= n * u.size
		}
	}
	return strings.Join(parts, " ")
}
