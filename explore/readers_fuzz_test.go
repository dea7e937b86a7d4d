package explore

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/proto/imap"
	"github.com/mailx-edu/mailx/proto/pop3"
)

// The fuzz targets here drive the code a live session runs: the explorer's
// Wire under proto/pop3 and proto/imap's ReadResponse, then the
// explanations, exactly as POP3.ReadResponse and IMAP.ReadResponse do.

// FuzzReadPOP3Response feeds arbitrary server output to the POP3 response
// reader. It must never panic, never return a line beyond the wire's limit,
// keep Raw faithful (every raw line appears in the input), and its decoded
// lines must re-encode to lines that read back the same.
func FuzzReadPOP3Response(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "proto", "pop3", "testdata", "*.pop3"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b, true)
			f.Add(b, false)
		}
	}
	f.Add([]byte("+OK\r\n..\r\n.\r\n"), true)
	f.Add([]byte("-ERR [IN-USE] x\r\n"), true)
	f.Add([]byte("+ \r\n"), false)
	f.Add([]byte("+OK "+strings.Repeat("0", 300)), false)
	wireLim := Limits{Line: 256, Literal: 4096, ResponseLines: 100}
	lim := pop3.Limits{Response: 4096}
	f.Fuzz(func(t *testing.T, data []byte, multi bool) {
		w := NewWire(bytes.NewReader(data), wireLim)
		for range 50 {
			r, err := pop3.ReadResponse(w, multi, lim)
			for _, raw := range r.Raw {
				if len(raw) > wireLim.Line {
					t.Fatalf("raw line of %d octets exceeds limit %d", len(raw), wireLim.Line)
				}
				if !bytes.Contains(data, []byte(raw)) {
					t.Fatalf("raw line %q not in input", raw)
				}
			}
			if err != nil {
				return
			}
			if r.Multi {
				if len(r.Raw) != len(r.Lines)+2 || r.Raw[len(r.Raw)-1] != "." {
					t.Fatalf("multi-line response: %d raw lines for %d decoded, last %q", len(r.Raw), len(r.Lines), r.Raw[len(r.Raw)-1])
				}
				for i, l := range r.Lines {
					if raw := r.Raw[i+1]; raw != l && raw != "."+l {
						t.Fatalf("decoded line %q does not come from raw %q", l, raw)
					}
				}
				// The encoder and the reader agree: what EncodeLines writes
				// reads back as the same lines.
				enc := "+OK\r\n" + strings.Join(pop3.EncodeLines(r.Lines), "\r\n") + "\r\n"
				back, err := pop3.ReadResponse(NewWire(strings.NewReader(enc), Limits{Line: wireLim.Line + 1}), true, pop3.Limits{Response: 2 * lim.Response})
				if err != nil || strings.Join(back.Lines, "\n") != strings.Join(r.Lines, "\n") {
					t.Fatalf("re-encoded lines read back as %q, %v; want %q", back.Lines, err, r.Lines)
				}
			} else if len(r.Raw) != 1 {
				t.Fatalf("single-line response has %d raw lines", len(r.Raw))
			}
			back, perr := pop3.ParseStatus(r.Raw[0])
			if perr != nil || back.Status != r.Status || back.Code != r.Code || back.Text != r.Text {
				t.Fatalf("status line %q reparses as %+v, %v", r.Raw[0], back, perr)
			}
			_ = pop3.ExplainResponse(r, pop3.Transaction, "RETR", "1")
		}
	})
}

// FuzzReadIMAPResponse feeds arbitrary server output to the IMAP response
// reader. It must never panic or exceed its limits, every literal must be
// exactly the announced size, and the raw lines joined with CRLF must read
// back as the same response (so that a recorded transcript replays byte for
// byte).
func FuzzReadIMAPResponse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "proto", "imap", "testdata", "*.imap"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("* 1 FETCH (BODY[] {5}\r\nhello)\r\na1 OK\r\n"))
	f.Add([]byte("+ \r\n* OK [UIDVALIDITY 1]\r\n"))
	f.Add([]byte("* 1 FETCH (UID 1 BODY[HEADER.FIELDS (\"SUBJECT\")] {4}\r\nab\r\n)\r\na1 OK\r\n"))
	wireLim := Limits{Line: 512, Literal: 2048, ResponseLines: 100}
	lim := imap.Limits{Literal: 2048, Literals: 8}
	f.Fuzz(func(t *testing.T, data []byte) {
		w := NewWire(bytes.NewReader(data), wireLim)
		for range 50 {
			r, err := imap.ReadResponse(w, lim)
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
			back, err := imap.ReadResponse(NewWire(strings.NewReader(joined+"\r\n"), Limits{Line: 1 << 20, Literal: wireLim.Literal}), lim)
			if err != nil || strings.Join(back.Literals, "|") != strings.Join(r.Literals, "|") || back.Kind != r.Kind || back.Tag != r.Tag || back.Text != r.Text {
				t.Fatalf("replay of %q = %+v, %v; want %+v", joined, back, err, r)
			}
			_ = imap.ExplainResponse(r, imap.Selected, imap.ParseCommand("FETCH 1 BODY[]"))
		}
	})
}
