package smtp

import (
	"slices"
	"strings"
	"testing"
)

// FuzzParseReply checks that the reply reader (ReplyBuilder, which the
// explorer, the relay client, the web bridge and the trace all use) never
// panics, that every reply it accepts survives a Wire round trip with its
// code, enhanced code and every line of text unchanged, and that the
// Annotator copes with whatever a server sends.
func FuzzParseReply(f *testing.F) {
	for _, seed := range []string{
		"220 mx.test ESMTP",
		"250-mx.test\n250-PIPELINING\n250 SIZE 1000",
		"550 5.1.1 <x@y>: unknown",
		"354",
		"250-a\n251 b",
		"421-4.3.2 bye\n421 4.3.2 bye",
		"334 VXNlcm5hbWU6",
		"999 x",
		"25",
		"250 2.0.0 Ok: queued as ABC",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lines := strings.Split(s, "\n")
		r, err := readReply(lines)
		if err != nil {
			return
		}
		if r.Code < 200 || r.Code > 599 {
			t.Fatalf("readReply(%q) accepted code %d", s, r.Code)
		}
		a := NewAnnotator()
		a.Server(r)
		a.Client(s)
		a.Server(r)
		ExplainReply(r, "EHLO", Greeted)
		QueueID(r)
		// Lines with CR or LF inside cannot be put back on the wire as-is.
		for _, l := range r.Lines {
			if strings.ContainsAny(l, "\r\n") {
				return
			}
		}
		back, err := readReply(r.Wire())
		if err != nil {
			t.Fatalf("readReply(Wire(%+v)) = %v", r, err)
		}
		if back.Code != r.Code || back.Enhanced != r.Enhanced || !slices.Equal(back.Lines, r.Lines) {
			t.Fatalf("round trip changed %+v into %+v", r, back)
		}
	})
}

// FuzzParsePathArg checks the MAIL/RCPT argument parser on arbitrary input.
func FuzzParsePathArg(f *testing.F) {
	for _, s := range []string{"FROM:<a@b>", "TO: a@b", "TO:<@x,@y:a@b> NOTIFY=NEVER", "FROM:<>", "TO:<", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePathArg(s, "TO")
		if err == nil && p.Address == "" {
			t.Fatalf("ParsePathArg(%q) accepted an empty recipient", s)
		}
	})
}
