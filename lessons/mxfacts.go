package lessons

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MXFact is one mail exchanger with its preference, as a lesson expects to
// see it in `mailx mx lookup` output: "10 mx.hamburger.test".
type MXFact struct {
	Preference int
	Host       string // lower case, without the trailing dot
}

func (f MXFact) String() string { return fmt.Sprintf("%s (preference %d)", f.Host, f.Preference) }

// ParseMXFact reads "PREFERENCE HOST".
func ParseMXFact(s string) (MXFact, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return MXFact{}, fmt.Errorf("%q is not PREFERENCE HOST, such as \"10 mx.hill.test\"", s)
	}
	p, err := strconv.Atoi(f[0])
	if err != nil || p < 0 || p > 65535 {
		return MXFact{}, fmt.Errorf("%q: the preference must be a number from 0 to 65535", s)
	}
	return MXFact{Preference: p, Host: normHost(f[1])}, nil
}

func normHost(h string) string { return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), ".")) }

var (
	// The answer section of the plain output: "school.test.  300  IN  MX  10 mx1.school.test."
	plainMX = regexp.MustCompile(`(?m)\bIN\s+MX\s+(\d{1,5})\s+(\S+)`)
	// The result section: "try 1: implicit.test (preference 0, the domain itself)"
	// and "try 1: mx1.multi.test or mx2.multi.test (preference 10, in random order)".
	plainTry = regexp.MustCompile(`(?m)^\s*try \d+: (.+?) \(preference (\d{1,5})`)
	// --short: "10 mx1.school.test."
	shortMX = regexp.MustCompile(`^(\d{1,5}) (\S+)$`)
)

// ParseMXOutput reads the exchangers out of `mailx mx lookup` output in any
// of its formats: plain text (the answer records and the result's "try"
// lines, which include an implicit MX), --short ("PREF HOST." lines) and
// --json (its exchangers and records). Colour codes are ignored. It never
// fails: output it does not understand gives no facts.
func ParseMXOutput(out string) []MXFact {
	out = ansi.ReplaceAllString(out, "")
	var facts []MXFact
	add := func(pref int, host string) {
		f := MXFact{Preference: pref, Host: normHost(host)}
		if f.Host == "" || hasMX(facts, f) {
			return
		}
		facts = append(facts, f)
	}
	trimmed := strings.TrimSpace(out)
	if strings.HasPrefix(trimmed, "{") {
		var doc struct {
			Records []struct {
				Preference int    `json:"preference"`
				Exchange   string `json:"exchange"`
			} `json:"records"`
			Exchangers []struct {
				Preference int    `json:"preference"`
				Host       string `json:"host"`
			} `json:"exchangers"`
		}
		if json.Unmarshal([]byte(trimmed), &doc) == nil {
			for _, r := range doc.Records {
				add(r.Preference, r.Exchange)
			}
			for _, x := range doc.Exchangers {
				add(x.Preference, x.Host)
			}
			return facts
		}
	}
	for _, m := range plainMX.FindAllStringSubmatch(out, -1) {
		p, _ := strconv.Atoi(m[1])
		add(p, m[2])
	}
	for _, m := range plainTry.FindAllStringSubmatch(out, -1) {
		p, _ := strconv.Atoi(m[2])
		for _, h := range strings.Split(m[1], " or ") {
			add(p, h)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if m := shortMX.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			p, _ := strconv.Atoi(m[1])
			add(p, m[2])
		}
	}
	return facts
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func hasMX(facts []MXFact, want MXFact) bool {
	for _, f := range facts {
		if f.Host == want.Host && f.Preference == want.Preference {
			return true
		}
	}
	return false
}

func mxList(facts []MXFact) string {
	s := make([]string, len(facts))
	for i, f := range facts {
		s[i] = f.String()
	}
	return strings.Join(s, ", ")
}
