package auth

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

func seedLines(f *testing.F, file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		f.Add(sc.Text())
	}
}

// FuzzParseSPF: never panics, stays within its limit, and every term it
// returns is a piece of the record with a meaning.
func FuzzParseSPF(f *testing.F) {
	seedLines(f, "testdata/spf-records.txt")
	f.Fuzz(func(t *testing.T, rec string) {
		terms, err := ParseSPF(rec)
		if err != nil {
			return
		}
		if len(rec) > maxSPFRecord {
			t.Fatalf("accepted a record of %d octets", len(rec))
		}
		for _, tm := range terms {
			if !strings.Contains(rec, tm.Text) || tm.Meaning == "" {
				t.Fatalf("term %+v is not from %q or has no meaning", tm, rec)
			}
		}
	})
}

// FuzzParseTags: never panics; the tags round-trip through "name=value;".
func FuzzParseTags(f *testing.F) {
	seedLines(f, "testdata/dkim-tags.txt")
	f.Fuzz(func(t *testing.T, s string) {
		tags, err := ParseTags(s)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, tg := range tags {
			b.WriteString(tg.Name + "=" + tg.Value + "; ")
		}
		again, err := ParseTags(b.String())
		if err != nil {
			t.Fatalf("ParseTags(%q) = %v, but its own rendering %q fails: %v", s, tags, b.String(), err)
		}
		if len(again) != len(tags) {
			t.Fatalf("round trip of %q: %v, then %v", s, tags, again)
		}
		for i := range tags {
			if again[i] != tags[i] {
				t.Fatalf("round trip of %q: %v, then %v", s, tags, again)
			}
		}
	})
}

// FuzzHeader: the header helpers never panic on any message, and stripping
// forged Authentication-Results never grows the header.
func FuzzHeader(f *testing.F) {
	f.Add("Authentication-Results: mx.test; spf=pass\r\nFrom: a@b.test\r\n\r\nbody\r\n")
	f.Add("From: \"x@y.test\" <a@b.test>\r\nReturn-Path: <a@b.test>\r\nReceived: from h ([192.0.2.1]) by x\r\n\r\n")
	f.Add("no header at all")
	f.Fuzz(func(t *testing.T, msg string) {
		h, _ := SplitMessage([]byte(msg))
		fields := Fields(h)
		FromDomain(fields)
		EnvelopeFromTrace(fields)
		out, _ := StripForged(h, "mx.test")
		if len(out) > len(h) {
			t.Fatalf("StripForged grew the header from %d to %d octets", len(h), len(out))
		}
		CanonicalBody([]byte(msg), "relaxed")
		CanonicalBody([]byte(msg), "simple")
	})
}
