package imap

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadResponse feeds arbitrary server output to the response reader. It
// must never panic or exceed its limits, every literal must be exactly the
// announced size, and the raw lines joined with CRLF must be the octets the
// reader consumed (so that a recorded transcript replays byte for byte).
func FuzzReadResponse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.imap"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("* 1 FETCH (BODY[] {5}\r\nhello)\r\na1 OK\r\n"))
	f.Add([]byte("+ \r\n* OK [UIDVALIDITY 1]\r\n"))
	f.Add([]byte("* 1 FETCH (UID 1 BODY[HEADER.FIELDS (\"SUBJECT\")] {4}\r\nab\r\n)\r\na1 OK\r\n"))
	lim := Limits{Line: 512, Literal: 2048, Literals: 8}
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := NewReader(bytes.NewReader(data), lim)
		for i := 0; i < 50; i++ {
			r, err := rd.ReadResponse()
			if len(r.Literals) > lim.Literals {
				t.Fatalf("%d literals, limit %d", len(r.Literals), lim.Literals)
			}
			if len(r.Raw) != len(r.InLiteral) {
				t.Fatalf("Raw and InLiteral differ in length")
			}
			if err != nil {
				return
			}
			joined := strings.Join(r.Raw, "\r\n")
			for _, lit := range r.Literals {
				if !strings.Contains(joined, lit) {
					t.Fatalf("literal %q missing from raw %q", lit, joined)
				}
			}
			// Replaying the raw lines gives the same response.
			back, err := NewReader(strings.NewReader(joined+"\r\n"), Limits{Line: 1 << 20, Literal: lim.Literal, Literals: lim.Literals}).ReadResponse()
			if err != nil || strings.Join(back.Literals, "|") != strings.Join(r.Literals, "|") || back.Kind != r.Kind || back.Tag != r.Tag || back.Text != r.Text {
				t.Fatalf("replay of %q = %+v, %v; want %+v", joined, back, err, r)
			}
			_ = ExplainResponse(r, Selected, ParseCommand("FETCH 1 BODY[]"))
		}
	})
}
