package mime

import (
	"net/mail"
	"strings"
	"time"
)

// Hops reads the Received fields of a header bottom-up (each relay adds
// its field at the top, so the lowest is the first hop) and numbers them
// from the first relay, with the delay between consecutive hops.
func Hops(hdrs []Header) []Hop {
	var rec []string
	for _, h := range hdrs {
		if strings.EqualFold(h.Name, "Received") {
			rec = append(rec, h.Raw)
		}
	}
	hops := make([]Hop, 0, len(rec))
	for i := len(rec) - 1; i >= 0; i-- {
		h := ParseReceived(rec[i])
		h.N = len(hops) + 1
		if n := len(hops); n > 0 && !h.Time.IsZero() && !hops[n-1].Time.IsZero() {
			h.Delay, h.HasDelay = h.Time.Sub(hops[n-1].Time), true
		}
		hops = append(hops, h)
	}
	if len(hops) == 0 {
		return nil
	}
	return hops
}

// ParseReceived reads one Received field (RFC 5321 §4.4):
//
//	from mail.crepes.fr (mail.crepes.fr [192.0.2.7]) by mx.hamburger.edu
//	  with ESMTPS id 4Vx2; Fri, 1 Mar 2024 12:00:03 +0000
//
// The clauses are found by their keywords, each with the comments that
// follow it; the time is what follows the last semicolon.
func ParseReceived(v string) Hop {
	h := Hop{Raw: v}
	clauses := v
	if i := strings.LastIndexByte(v, ';'); i >= 0 {
		clauses = v[:i]
		if t, err := mail.ParseDate(strings.TrimSpace(v[i+1:])); err == nil {
			h.Time = t
		}
	}
	var key string
	var val []string
	set := func() {
		s := strings.Join(val, " ")
		switch key {
		case "from":
			h.From = s
		case "by":
			h.By = s
		case "via":
			h.Via = s
		case "with":
			h.With = s
		case "id":
			h.ID = s
		case "for":
			h.For = s
		}
		val = nil
	}
	for _, tok := range receivedTokens(clauses) {
		switch k := strings.ToLower(tok); k {
		case "from", "by", "via", "with", "id", "for":
			set()
			key = k
			continue
		}
		val = append(val, tok)
	}
	set()
	return h
}

// receivedTokens splits on white space outside comments, keeping each
// comment (which may nest, RFC 5322 §3.2.2) as one token.
func receivedTokens(s string) []string {
	var toks []string
	var cur strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && depth > 0 && i+1 < len(s):
			cur.WriteByte(c)
			i++
			cur.WriteByte(s[i])
			continue
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case (c == ' ' || c == '\t' || c == '\r' || c == '\n') && depth == 0:
			if cur.Len() > 0 {
				toks = append(toks, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteByte(c)
	}
	if cur.Len() > 0 {
		toks = append(toks, cur.String())
	}
	return toks
}

// FormatDelay shows a delay between hops the way a person reads it.
func FormatDelay(d time.Duration) string {
	if d < 0 {
		return "-" + FormatDelay(-d) + " (the clocks of the two hosts disagree)"
	}
	if d < time.Second {
		return "<1s"
	}
	return d.Round(time.Second).String()
}
