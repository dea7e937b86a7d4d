package spam

import (
	"testing"
)

// FuzzTokens: the tokenizer reads untrusted messages; it never panics and
// keeps within its limits.
func FuzzTokens(f *testing.F) {
	for _, m := range Corpus("spam")[:3] {
		f.Add(string(m))
	}
	f.Add("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+aGVsbG88L2I+\r\n--b--\r\n")
	f.Add("Subject: =?utf-8?q?caf=C3=A9?=\r\n\r\nhttp://x.test/ $$$ FREE!!!")
	f.Fuzz(func(t *testing.T, msg string) {
		toks := Tokens([]byte(msg))
		if len(toks) > maxTokens {
			t.Fatalf("%d tokens, limit %d", len(toks), maxTokens)
		}
		seen := map[string]bool{}
		for _, tk := range toks {
			if seen[tk] {
				t.Fatalf("token %q twice", tk)
			}
			seen[tk] = true
		}
	})
}
