package mx

import (
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/proto/note"
)

// Rule names which RFC 5321 §5.1 rule decided where mail goes.
type Rule string

const (
	// RuleMX: the domain has MX records; mail goes to their exchangers.
	RuleMX Rule = "mx"
	// RuleImplicit: no MX records, but the domain has an address record, so
	// the domain itself is the exchanger with preference 0.
	RuleImplicit Rule = "implicit"
	// RuleNull: a null MX ("0 .", RFC 7505): the domain accepts no mail.
	RuleNull Rule = "null"
)

// Source says where an exchanger's address came from.
const (
	SourceAdditional = "additional" // the additional section of the MX answer
	SourceQuery      = "query"      // a separate A or AAAA query
)

// Question is what was asked: name, type and class, as on the wire.
type Question struct {
	Name  string `json:"name"`  // fully qualified, A-label form: "xn--bcher-kva.test."
	Type  string `json:"type"`  // "MX"
	Class string `json:"class"` // "IN"
}

// Alias is one CNAME record met on the way: Name is an alias for Target.
type Alias struct {
	Name   string `json:"name"`
	TTL    uint32 `json:"ttl"`
	Target string `json:"target"`
}

// Record is one MX record as the server returned it.
type Record struct {
	Name       string `json:"name"`       // owner, fully qualified
	TTL        uint32 `json:"ttl"`        // seconds the answer may be cached
	Class      string `json:"class"`      // "IN"
	Type       string `json:"type"`       // "MX"
	Preference uint16 `json:"preference"` // lower is tried first
	Exchange   string `json:"exchange"`   // fully qualified; "." for a null MX
}

// Address is one IP address of an exchanger and where it came from.
type Address struct {
	Name   string     `json:"name"`   // owner of the A/AAAA record (the canonical name if the host is an alias)
	TTL    uint32     `json:"ttl"`    // seconds
	Type   string     `json:"type"`   // "A" or "AAAA"
	IP     netip.Addr `json:"ip"`     // the address
	Source string     `json:"source"` // SourceAdditional or SourceQuery
}

// Exchanger is one host that accepts mail for the domain.
type Exchanger struct {
	Preference uint16 `json:"preference"`
	// Host is the exchanger's name in A-label form, without the final dot.
	Host string `json:"host"`
	// Unicode is Host for display (U-labels); equal to Host for ASCII names.
	Unicode string `json:"unicode"`
	// TTL of the MX record; for an implicit MX, of the first address record.
	TTL uint32 `json:"ttl"`
	// Implicit is true when there was no MX record (RFC 5321 §5.1).
	Implicit bool `json:"implicit"`
	// AliasFor is the canonical name when Host is an alias (a CNAME), which
	// RFC 2181 §10.3 forbids; "" otherwise.
	AliasFor string `json:"alias_for,omitempty"`
	// Aliases are the CNAME records from Host to AliasFor, as returned.
	Aliases []Alias `json:"aliases,omitempty"`
	// IPLiteral is true when the MX names an IP address instead of a host;
	// such an exchanger is not usable and has no Addresses.
	IPLiteral bool `json:"ip_literal"`
	// Addresses are the host's A and AAAA records, A first.
	Addresses []Address `json:"addresses"`
	// Error says why the addresses could not be looked up (a timeout, a
	// SERVFAIL); an MTA skips the host this time and retries later.
	Error string `json:"error,omitempty"`
}

// Usable reports whether a client can connect to the exchanger: it has at
// least one address.
func (x Exchanger) Usable() bool { return len(x.Addresses) > 0 }

// Annotation is an explanation or a warning about one aspect of a result.
// Topic is a stable key (see the Topic* constants) that lessons and tests
// refer to; the note holds the words.
type Annotation struct {
	Topic string `json:"topic"`
	note.Note
}

// Topics of annotations.
const (
	TopicIDN        = "idn"         // the domain was converted to A-labels
	TopicAlias      = "alias"       // the queried name is a CNAME, followed
	TopicPreference = "preference"  // what MX preference means
	TopicTTL        = "ttl"         // what the TTL means
	TopicAuthority  = "authority"   // authoritative or not
	TopicTruncated  = "truncated"   // UDP answer truncated, repeated over TCP
	TopicAddresses  = "addresses"   // where the addresses came from
	TopicRule       = "rule"        // which RFC 5321 §5.1 rule applied
	TopicMXAlias    = "mx-alias"    // warning: an MX target is a CNAME
	TopicIPLiteral  = "ip-literal"  // warning: an MX target is an IP address
	TopicNoAddress  = "no-address"  // warning: an exchanger has no address
	TopicHostFailed = "host-failed" // warning: an exchanger's lookup failed
	TopicNullMixed  = "null-mixed"  // warning: "0 ." next to other MX records
	TopicNullPref   = "null-pref"   // warning: a null MX with preference ≠ 0
	TopicNoneUsable = "none-usable" // warning: no exchanger has an address
)

// Result is everything a lookup found, in the order a resolver returns it,
// with explanations. It is what `mailx mx lookup --json` prints.
type Result struct {
	Question Question `json:"question"`
	// Domain is the domain asked about, in its given, A-label and U-label forms.
	Domain Name `json:"domain"`
	// Canonical is the name whose MX records were used: Domain.ASCII, or the
	// end of the alias chain.
	Canonical string `json:"canonical"`
	// Aliases is the CNAME chain from the domain to Canonical, in order.
	Aliases []Alias `json:"aliases"`
	// Records are the MX records as returned, sorted by preference (then
	// exchange, so that the order is stable).
	Records []Record `json:"records"`
	// Exchangers are the hosts that accept mail, sorted like Records. Empty
	// for a null MX. Use Order for the order a delivery attempt takes.
	Exchangers []Exchanger `json:"exchangers"`
	// Rule is the RFC 5321 §5.1 rule applied.
	Rule Rule `json:"rule"`
	// Server is host:port of the server that answered the MX question.
	Server string `json:"server"`
	// Transport is "udp" or "tcp": how the MX answer finally came.
	Transport string `json:"transport"`
	// RTT is the time the MX question took (both attempts when UDP was
	// truncated and repeated over TCP). In JSON it is "rtt_ms".
	RTT time.Duration `json:"-"`
	// Authoritative is the AA flag: a server responsible for the zone answered.
	Authoritative bool `json:"authoritative"`
	// RecursionAvailable is the RA flag: the server is a recursive resolver.
	RecursionAvailable bool `json:"recursion_available"`
	// Truncated is true when the UDP answer had the TC flag and the question
	// was repeated over TCP.
	Truncated bool `json:"truncated"`
	// Queries counts the questions sent, including address queries.
	Queries int `json:"queries"`
	// Warnings are likely misconfigurations, each a note with Severity Warning.
	Warnings []Annotation `json:"warnings"`
	// Notes explain the result: preference, TTL, authority, the rule.
	Notes []Annotation `json:"notes"`
}

// MarshalJSON adds "rtt_ms" (milliseconds, fractional) to the fields above.
func (res *Result) MarshalJSON() ([]byte, error) {
	type plain Result
	return json.Marshal(struct {
		*plain
		RTTMillis float64 `json:"rtt_ms"`
	}{(*plain)(res), float64(res.RTT.Microseconds()) / 1000})
}

// AcceptsMail reports whether the domain takes mail at all: false for a null MX.
func (res *Result) AcceptsMail() bool { return res.Rule != RuleNull }

// Order returns the exchangers in the order an MTA tries them (RFC 5321
// §5.1): lowest preference first, and exchangers of equal preference
// shuffled, so that load spreads over them. rnd supplies the randomness (nil
// uses the global source); tests pass a seeded one. Exchangers without an
// address are kept, at their place, so a caller can report them; a client
// skips them. The result is a new slice; Exchangers is not changed.
func (res *Result) Order(rnd *rand.Rand) []Exchanger {
	out := slices.Clone(res.Exchangers)
	slices.SortStableFunc(out, func(a, b Exchanger) int { return int(a.Preference) - int(b.Preference) })
	shuffle := rand.Shuffle
	if rnd != nil {
		shuffle = rnd.Shuffle
	}
	for _, group := range PreferenceGroups(out) {
		shuffle(len(group), func(a, b int) { group[a], group[b] = group[b], group[a] })
	}
	return out
}

// PreferenceGroups splits exchangers sorted by preference into runs of equal
// preference: the successive rounds of a delivery attempt. The groups share
// xs's backing array.
func PreferenceGroups(xs []Exchanger) [][]Exchanger {
	var out [][]Exchanger
	for i := 0; i < len(xs); {
		j := i + 1
		for j < len(xs) && xs[j].Preference == xs[i].Preference {
			j++
		}
		out = append(out, xs[i:j])
		i = j
	}
	return out
}

// Note returns the first note or warning about topic, and whether there is one.
func (res *Result) Note(topic string) (note.Note, bool) {
	for _, list := range [][]Annotation{res.Notes, res.Warnings} {
		for _, a := range list {
			if a.Topic == topic {
				return a.Note, true
			}
		}
	}
	return note.Note{}, false
}

func (res *Result) warn(topic, summary, detail, ref string) {
	res.Warnings = append(res.Warnings, Annotation{Topic: topic, Note: note.Note{
		Summary: summary, Detail: detail, Ref: ref, Severity: note.Warning}})
}

func (res *Result) explain(topic, summary, detail, ref string) {
	res.Notes = append(res.Notes, Annotation{Topic: topic, Note: note.Note{Summary: summary, Detail: detail, Ref: ref}})
}

// sortRecords orders MX records by preference, then exchange name, so that
// output is stable whatever order the server chose (servers rotate records).
func sortRecords(rs []Record) {
	slices.SortStableFunc(rs, func(a, b Record) int {
		if a.Preference != b.Preference {
			return int(a.Preference) - int(b.Preference)
		}
		return strings.Compare(a.Exchange, b.Exchange)
	})
}
