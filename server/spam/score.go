package spam

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Rule is a named test with its default points and what it means.
type Rule struct {
	Name    string  `json:"name"`
	Points  float64 `json:"points"`
	Meaning string  `json:"meaning"`
}

// Rules are the score's tests. Points follow SpamAssassin's scale (5.0 is
// spam), rounded, and weighed for teaching: each failure is visible, and
// two of them junk a message.
var Rules = map[string]Rule{
	"SPF_FAIL":        {"SPF_FAIL", 3.0, "SPF fail: the envelope sender's domain says this client may not send its mail"},
	"SPF_SOFTFAIL":    {"SPF_SOFTFAIL", 1.0, "SPF softfail: the envelope sender's domain says this client is probably not one of its senders"},
	"SPF_PERMERROR":   {"SPF_PERMERROR", 0.5, "SPF permerror: the envelope sender's SPF record is broken"},
	"DKIM_FAIL":       {"DKIM_FAIL", 2.0, "DKIM fail: a signature does not verify; the message changed after signing, or was forged"},
	"DMARC_FAIL":      {"DMARC_FAIL", 3.5, "DMARC fail: neither SPF nor DKIM passed for the domain of the From: address people see"},
	"RBL_LISTED":      {"RBL_LISTED", 3.0, "the client's address is on a DNS blocklist"},
	"MISSING_MID":     {"MISSING_MID", 1.0, "no Message-ID: field: every real mail program adds one (RFC 5322 §3.6.4)"},
	"MISSING_DATE":    {"MISSING_DATE", 1.0, "no Date: field, which RFC 5322 §3.6 requires"},
	"DATE_FAR_OFF":    {"DATE_FAR_OFF", 1.5, "the Date: is more than a day away from when the message arrived"},
	"HTML_ONLY":       {"HTML_ONLY", 1.0, "HTML only, without the plain-text version mail programs send along"},
	"FROM_NAME_SPOOF": {"FROM_NAME_SPOOF", 2.5, "the From: display name shows an address of another domain than the real From: address"},
	"LOCAL_CLIENT":    {"LOCAL_CLIENT", 0, "the client is this machine: trusted, like Postfix's mynetworks"},
	"BAYES_00":        {"BAYES_00", -2.0, "the learning filter is sure this is ham (spam probability under 1%)"},
	"BAYES_05":        {"BAYES_05", -1.0, "the learning filter thinks this is ham (spam probability 1 to 5%)"},
	"BAYES_80":        {"BAYES_80", 2.0, "the learning filter thinks this is spam (spam probability 80 to 95%)"},
	"BAYES_95":        {"BAYES_95", 3.5, "the learning filter is fairly sure this is spam (spam probability 95 to 99%)"},
	"BAYES_99":        {"BAYES_99", 5.0, "the learning filter is sure this is spam (spam probability 99% or more)"},
}

// BayesRule returns the rule for a spam probability, or "" in the
// uncertain middle.
func BayesRule(p float64) string {
	switch {
	case p < 0.01:
		return "BAYES_00"
	case p < 0.05:
		return "BAYES_05"
	case p >= 0.99:
		return "BAYES_99"
	case p >= 0.95:
		return "BAYES_95"
	case p >= 0.80:
		return "BAYES_80"
	}
	return ""
}

// Defaults of the thresholds.
const (
	// DefaultThreshold is SpamAssassin's required_score: at or above it a
	// message is spam and goes to Junk.
	DefaultThreshold = 5.0
	// DefaultReject is where the server refuses instead of delivering
	// (0 means never): well above the threshold, so that only mail that is
	// surely spam is refused; refused mail is not lost but bounced by the
	// sending server, which is what makes refusing safer than dropping.
	DefaultReject = 15.0
)

// Hit is one rule that fired, with the points it added and why.
type Hit struct {
	Rule   string  `json:"rule"`
	Points float64 `json:"points"`
	Detail string  `json:"detail"`
}

// Score is a message's score and the rules behind it.
type Score struct {
	Hits      []Hit   `json:"hits"`
	Total     float64 `json:"score"`
	Threshold float64 `json:"required"`
	Spam      bool    `json:"spam"`
}

// Add records a hit of rule with its default points (or points when not 0).
func (s *Score) Add(rule string, points float64, detail string) {
	r := Rules[rule]
	if points == 0 {
		points = r.Points
	}
	if detail == "" {
		detail = r.Meaning
	}
	s.Hits = append(s.Hits, Hit{Rule: rule, Points: points, Detail: detail})
	s.Total += points
}

// Finish sorts the hits and decides against threshold.
func (s *Score) Finish(threshold float64) {
	sort.SliceStable(s.Hits, func(i, j int) bool { return s.Hits[i].Points > s.Hits[j].Points })
	s.Total = float64(int64(s.Total*10+sign(s.Total)*0.5)) / 10
	s.Threshold = threshold
	s.Spam = s.Total >= threshold
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

// Tests returns the names of the rules that fired, sorted, as in tests=.
func (s Score) Tests() []string {
	var out []string
	for _, h := range s.Hits {
		out = append(out, h.Rule)
	}
	sort.Strings(out)
	return out
}

// StatusField is the X-Spam-Status field, SpamAssassin's format, CRLF-ended.
func (s Score) StatusField() string {
	yes := "No"
	if s.Spam {
		yes = "Yes"
	}
	tests := strings.Join(s.Tests(), ",")
	if tests == "" {
		tests = "none"
	}
	return fmt.Sprintf("X-Spam-Status: %s, score=%s required=%s tests=%s\r\n", yes, num(s.Total), num(s.Threshold), tests)
}

// ReportField is the X-Spam-Report field: one explained line per rule.
func (s Score) ReportField() string {
	var b strings.Builder
	b.WriteString("X-Spam-Report:\r\n")
	if len(s.Hits) == 0 {
		b.WriteString("\t* 0.0 no rule fired\r\n")
	}
	for _, h := range s.Hits {
		fmt.Fprintf(&b, "\t* %4s %s %s\r\n", num(h.Points), h.Rule, oneLine(h.Detail))
	}
	return b.String()
}

// Summary is one line for a refusal: "score 17.5 (DMARC_FAIL, RBL_LISTED, SPF_FAIL)".
func (s Score) Summary() string {
	return fmt.Sprintf("spam score %s, required %s (%s)", num(s.Total), num(s.Threshold), strings.Join(s.Tests(), ", "))
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

func oneLine(s string) string {
	s = strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// Has reports whether rule fired.
func (s Score) Has(rule string) bool {
	for _, h := range s.Hits {
		if h.Rule == rule {
			return true
		}
	}
	return false
}
