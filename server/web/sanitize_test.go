package web

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// corpus returns the XSS vectors of testdata/xss with PING standing for
// the URL of a server that would count their requests.
func corpus(t testing.TB) map[string]string {
	files, err := filepath.Glob("testdata/xss/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("no XSS corpus: %v", err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".html")] = string(b)
	}
	return out
}

func htmlMessage(body string) []byte {
	return []byte("From: a@b.test\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body + "\r\n")
}

// active matches what could run or fetch in cleaned HTML.
var active = regexp.MustCompile(`(?i)<\s*(script|style|meta|base|link|iframe|frame|object|embed|form|input|svg|math|video|audio|source)\b|\son[a-z]+\s*=|javascript:|vbscript:|livescript:|expression\(|url\(|srcset|background=|poster=|PING`)

// TestCleanHTMLCorpus: nothing active survives the cleaner, and with
// remote images refused no remote URL is left either.
func TestCleanHTMLCorpus(t *testing.T) {
	for name, html := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			m, err := parseMessage("INBOX", 1, nil, htmlMessage(strings.ReplaceAll(html, "PING", "http://127.0.0.1:9/ping")))
			if err != nil {
				t.Fatal(err)
			}
			c := m.cleanHTML(false)
			if loc := active.FindString(c.HTML); loc != "" || strings.Contains(c.HTML, "127.0.0.1:9") && !strings.Contains(c.HTML, "href=\"http://127.0.0.1:9") {
				t.Errorf("cleanHTML(%s) kept %q:\n%s", name, loc, c.HTML)
			}
		})
	}
}

// TestRemoteImages: a remote image is replaced and counted until the user
// allows remote content for the message; a cid: image becomes a data: URL.
func TestRemoteImages(t *testing.T) {
	raw := "From: a@b.test\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/html\r\n\r\n<img src=\"https://tracker.test/p.gif\"><img src=\"cid:logo@x\">\r\n" +
		"--b\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n"
	m, err := parseMessage("INBOX", 1, nil, []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := m.cleanHTML(false)
	if c.RemoteBlocked != 1 || strings.Contains(c.HTML, "tracker.test") || !strings.Contains(c.HTML, `src="data:image/png;base64,iVBORw0KGgo="`) {
		t.Errorf("blocked: %d %s", c.RemoteBlocked, c.HTML)
	}
	c = m.cleanHTML(true)
	if c.RemoteAllowed != 1 || !strings.Contains(c.HTML, `src="https://tracker.test/p.gif"`) {
		t.Errorf("allowed: %d %s", c.RemoteAllowed, c.HTML)
	}
}

// FuzzCleanHTML feeds any HTML body through the parser and the cleaner:
// never a panic, never an event handler, script or javascript: URL out.
func FuzzCleanHTML(f *testing.F) {
	for _, h := range corpus(f) {
		f.Add(h)
	}
	f.Add(`<img src="cid:a"><a href="mailto:x@y">m</a>`)
	f.Fuzz(func(t *testing.T, h string) {
		m, err := parseMessage("INBOX", 1, nil, htmlMessage(h))
		if err != nil {
			return
		}
		for _, remote := range []bool{false, true} {
			c := m.cleanHTML(remote)
			if bad := activeMarkup(c.HTML); bad != "" {
				t.Fatalf("cleanHTML kept %s in %q", bad, c.HTML)
			}
		}
	})
}

// TestRedactIMAP: LOGIN's password never reaches the pane.
func TestRedactIMAP(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`T1 LOGIN alice hungry`, `T1 LOGIN alice ********`},
		{`T1 LOGIN "alice" "hun gry"`, `T1 LOGIN alice ********`},
		{`T1 LOGIN alice {6}⟨6 octets⟩`, `T1 LOGIN alice ********`},
		{`T2 AUTHENTICATE PLAIN AGFsaWNlAGh1bmdyeQ==`, `T2 AUTHENTICATE PLAIN ********`},
		{`T3 SELECT INBOX`, `T3 SELECT INBOX`},
	} {
		if got := redactIMAP(tc.in); got != tc.want {
			t.Errorf("redactIMAP(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// activeMarkup tokenizes cleaned HTML as a browser would and names the
// first element or attribute that could run or fetch something.
func activeMarkup(h string) string {
	z := html.NewTokenizer(strings.NewReader(h))
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() == io.EOF {
				return ""
			}
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script", "style", "iframe", "frame", "object", "embed", "base", "meta", "link", "form", "svg", "math":
				return "<" + tok.Data + ">"
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
				switch {
				case strings.HasPrefix(a.Key, "on"):
					return "attribute " + a.Key
				case strings.HasPrefix(v, "javascript:"), strings.HasPrefix(v, "vbscript:"), strings.HasPrefix(v, "data:text"):
					return a.Key + "=" + a.Val
				case a.Key == "style" && (strings.Contains(v, "url(") || strings.Contains(v, "expression(")):
					return "style " + a.Val
				}
			}
		}
	}
}
