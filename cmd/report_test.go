package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/mailx-edu/mailx/server/servertest"
)

const reportSession = "EHLO student.test\nMAIL FROM:<alice@mailx.test>\nRCPT TO:<nobody@elsewhere.example>\nRCPT TO:<bob@mailx.test>\nDATA\nSubject: lab 1\n\nHello Bob, ``` and <b>not bold</b>.\n.\nQUIT\n"

// TestTalkReport: --report FILE.html and FILE.md write the session when it
// ends, with its lines, notes and header; a wrong name is refused before
// any connection.
func TestTalkReport(t *testing.T) {
	m := startTalkServe(t)
	dir := t.TempDir()
	for _, name := range []string{"lab1.html", "lab1.md"} {
		path := filepath.Join(dir, name)
		out, stderr, code := runMailx(t, reportSession, "smtp", "talk", m.Addr("smtp"), "--report", path)
		if code != 0 {
			t.Fatalf("%s: exit %d, stderr %q\n%s", name, code, stderr, out)
		}
		if !strings.Contains(stderr, "the session is in "+path) {
			t.Errorf("%s: stderr does not say where the report is: %q", name, stderr)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		doc := string(b)
		want := []string{"SMTP session with " + m.Addr("smtp"), "C: EHLO student.test", "relay access denied", "RFC 5321", "mailx"}
		if strings.HasSuffix(name, ".html") {
			want = append(want, `class="line s negative"`, `class="line c"`, "&lt;b&gt;not bold&lt;/b&gt;", "<dt>Date</dt>")
			for _, bad := range []string{"<script", "http://", "https://", "<b>not bold"} {
				if strings.Contains(doc, bad) {
					t.Errorf("%s holds %q: not self-contained or not escaped", name, bad)
				}
			}
		} else {
			want = append(want, "````text\nS: 220 ", "\n````\n", "## Notes", "- line ", "- **Server:**")
		}
		for _, w := range want {
			if !strings.Contains(doc, w) {
				t.Errorf("%s lacks %q:\n%s", name, w, doc)
			}
		}
	}
	for _, tc := range []struct{ arg, want string }{
		{filepath.Join(dir, "lab1.txt"), "must end in .html or .md"},
		{filepath.Join(dir, "missing", "lab1.html"), "does not exist"},
		{dir, "must end in .html or .md"},
	} {
		_, stderr, code := runMailx(t, "QUIT\n", "smtp", "talk", "127.0.0.1:1", "--report", tc.arg)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "connect") {
			t.Errorf("--report %s: exit %d, stderr %q; want a usage error saying %q before connecting", tc.arg, code, stderr, tc.want)
		}
	}
}

// TestTranscriptExport: a session recorded with --record exports to HTML
// and Markdown with the notes the explorer gives, for each protocol.
func TestTranscriptExport(t *testing.T) {
	m := startTalkServe(t)
	dir := t.TempDir()
	for _, tc := range []struct{ proto, svc, script, note string }{
		{"smtp", "smtp", reportSession, "relay access denied"},
		{"pop3", "pop3", "USER alice\nPASS hungry\nSTAT\nQUIT\n", "maildrop"},
		{"imap", "imap", "LOGIN alice hungry\nSELECT INBOX\nLOGOUT\n", "a002 OK"},
	} {
		rec := filepath.Join(dir, tc.proto+".txt")
		if _, stderr, code := runMailx(t, tc.script, tc.proto, "talk", m.Addr(tc.svc), "--record", rec); code != 0 {
			t.Fatalf("%s: record: exit %d %s", tc.proto, code, stderr)
		}
		_, stderr, code := runMailx(t, "", "transcript", "export", rec, "--html")
		html := filepath.Join(dir, tc.proto+".html")
		b, err := os.ReadFile(html)
		if code != 0 || err != nil {
			t.Fatalf("%s: export --html: exit %d, %v, %s", tc.proto, code, err, stderr)
		}
		if strings.Contains(string(b), "hungry") {
			t.Errorf("%s.html holds the password", tc.proto)
		}
		if !strings.Contains(string(b), tc.note) || !strings.Contains(string(b), `class="n note"`) {
			t.Errorf("%s.html lacks the session or its notes:\n%s", tc.proto, b)
		}
		md, stderr, code := runMailx(t, "", "transcript", "export", rec, "--md", "-o", "-")
		if code != 0 || !strings.Contains(md, "```text\n") || !strings.Contains(md, "## Notes") || !strings.Contains(md, tc.note) {
			t.Errorf("%s: export --md: exit %d %s\n%s", tc.proto, code, stderr, md)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"transcript", "export", filepath.Join(dir, "smtp.txt")}, "--html or --md"},
		{[]string{"transcript", "export", dir, "--md"}, "is a directory"},
		{[]string{"transcript", "export", filepath.Join(dir, "smtp.txt"), "--md", "-o", filepath.Join(dir, "x.html")}, "does not end in .md"},
	} {
		_, stderr, code := runMailx(t, "", tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want a usage error with %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestReportInChromium opens the page `mailx smtp talk --report lab1.html`
// leaves in a real browser (headless Chromium) and checks what it renders:
// the title, every C: and S: line in order, the notes, and the colours of
// the terminal (a refused RCPT in red, a client line in cyan). It saves a
// screenshot beside the report, and a copy in $MAILX_SCREENSHOTS when set
// (MAILX_SCREENSHOTS=$PWD/shots go test ./cmd -run Chromium, to look at it).
func TestReportInChromium(t *testing.T) {
	ctx := servertest.Chromium(t, 90*time.Second, chromedp.WindowSize(1000, 1400))
	m := startTalkServe(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "lab1.html")
	out, stderr, code := runBinary(t, reportSession, "smtp", "talk", m.Addr("smtp"), "--report", path)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr, out)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+filepath.ToSlash(path)), chromedp.WaitVisible("#session")); err != nil {
		t.Fatalf("chromium: open the report: %v", err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text("#session"))
	if err != nil {
		t.Fatal(err)
	}
	negColor, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".line.s.negative")).color`))
	if err != nil {
		t.Fatal(err)
	}
	sentColor, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".line.c")).color`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if title != "SMTP session with "+m.Addr("smtp") {
		t.Errorf("title %q", title)
	}
	last := -1
	for _, w := range []string{"S: 220 ", "C: EHLO student.test", "S: 250-", "C: RCPT TO:<nobody@elsewhere.example>", "S: 554 5.7.1", "note:", "C: Hello Bob, ``` and <b>not bold</b>.", "C: QUIT", "S: 221 "} {
		i := strings.Index(text[max(last, 0):], w)
		if i < 0 {
			t.Errorf("the page does not show %q after the lines before it:\n%s", w, text)
			continue
		}
		last += i + 1
	}
	if negColor != "rgb(241, 76, 76)" || sentColor != "rgb(41, 184, 219)" {
		t.Errorf("colours: a refusal is %s (want red), a sent line %s (want cyan)", negColor, sentColor)
	}
	png := filepath.Join(dir, "lab1.png")
	if err := os.WriteFile(png, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("MAILX_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "explore-report-lab1.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
