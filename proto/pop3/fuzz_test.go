package pop3

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadResponse feeds arbitrary server output to the response reader. It
// must never panic, never return a line beyond its limit, keep Raw faithful
// (every raw line appears in the input), and its decoded lines must re-encode
// to the raw lines it read.
func FuzzReadResponse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.pop3"))
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err == nil {
			f.Add(b, true)
			f.Add(b, false)
		}
	}
	f.Add([]byte("+OK\r\n..\r\n.\r\n"), true)
	f.Add([]byte("-ERR [IN-USE] x\r\n"), true)
	f.Add([]byte("+ \r\n"), false)
	lim := Limits{Line: 256, Response: 4096}
	f.Fuzz(func(t *testing.T, data []byte, multi bool) {
		rd := NewReader(bytes.NewReader(data), lim)
		for i := 0; i < 50; i++ {
			r, err := rd.ReadResponse(multi)
			for _, raw := range r.Raw {
				if len(raw) > lim.Line {
					t.Fatalf("raw line of %d octets exceeds limit %d", len(raw), lim.Line)
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
				enc := "+OK\r\n" + strings.Join(EncodeLines(r.Lines), "\r\n") + "\r\n"
				back, err := NewReader(strings.NewReader(enc), Limits{Line: lim.Line + 1, Response: 2 * lim.Response}).ReadResponse(true)
				if err != nil || strings.Join(back.Lines, "\n") != strings.Join(r.Lines, "\n") {
					t.Fatalf("re-encoded lines read back as %q, %v; want %q", back.Lines, err, r.Lines)
				}
			} else if len(r.Raw) != 1 {
				t.Fatalf("single-line response has %d raw lines", len(r.Raw))
			}
			back, perr := ParseStatus(r.Raw[0])
			if perr != nil || back.Status != r.Status || back.Code != r.Code || back.Text != r.Text {
				t.Fatalf("status line %q reparses as %+v, %v", r.Raw[0], back, perr)
			}
		}
	})
}
