package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/proto/transcript"
)

func sample() Session {
	return Session{
		Header: Header{Protocol: "smtp", Server: "127.0.0.1:2525", Started: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), Version: "v1.0.0"},
		Events: []transcript.Event{
			{Dir: transcript.Server, Line: "220 mx.test ESMTP", Tone: "positive", Notes: []note.Note{{Summary: "220 = ready", Ref: "RFC 5321 §4.2.3", Next: "EHLO you"}}},
			{Dir: transcript.Client, Line: "DATA ``` </div><script>alert(1)</script>"},
			{Dir: transcript.Server, Line: "550 5.1.1 no \x1b[31m such user", Tone: "negative",
				Notes: []note.Note{{Summary: "5.1.1 = bad destination mailbox address", Detail: "class 5: permanent\ndetail 1: bad destination mailbox address"}, {Summary: "*not* markup", Severity: note.Warning}}},
		},
	}
}

// TestHTML: the page is self-contained, escapes what the server and the
// student typed, keeps control characters visible, drops a detail line
// that repeats its summary, and colours lines by tone.
func TestHTML(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, sample()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{"<title>SMTP session with 127.0.0.1:2525</title>", `class="line s negative"`, `class="line s positive"`,
		"&lt;script&gt;", `\x1B[31m`, "<dd>v1.0.0</dd>", "class 5: permanent", `class="n warning"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>", "\x1b", "detail 1: bad destination", "http://", "https://"} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds %q", bad)
		}
	}
}

// TestMarkdown: the raw lines sit in a fence longer than any backtick run
// in them, and the notes are a list naming their line, with markup escaped.
func TestMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMarkdown(&b, sample()); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"# SMTP session with 127.0.0.1:2525", "- **Server:** `127.0.0.1:2525`", "````text\nS: 220 mx.test ESMTP\nC: DATA ``` ", "\n````\n",
		"- line 1, `S: 220 mx.test ESMTP`: note 220 = ready (RFC 5321 §4.2.3)", "  - next: EHLO you", `**warning** \*not\* markup`} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestWriteFile: the format follows the extension; anything else is
// refused; the file appears whole.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.html", "b.md", "C.HTM"} {
		if err := WriteFile(filepath.Join(dir, name), sample()); err != nil {
			t.Errorf("WriteFile(%s): %v", name, err)
		}
	}
	if err := WriteFile(filepath.Join(dir, "c.txt"), sample()); err == nil {
		t.Error("WriteFile(c.txt) accepted a name that is neither .html nor .md")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("%d files in the directory, want 3 (no temporary files left)", len(entries))
	}
}

// TestCollectorBound: a huge session keeps MaxEvents lines and says how
// many were left out.
func TestCollectorBound(t *testing.T) {
	var c Collector
	for i := 0; i < MaxEvents+5; i++ {
		c.Hook(transcript.Event{Dir: transcript.Server, Line: "x"})
	}
	ev := c.Events()
	if len(ev) != MaxEvents+1 || !strings.Contains(ev[MaxEvents].Line, "left out: 5 lines") {
		t.Errorf("%d events, last %q", len(ev), ev[len(ev)-1].Line)
	}
}

// TestRedact: passwords never reach a report, user names do.
func TestRedact(t *testing.T) {
	ev := func(d transcript.Dir, l string) transcript.Event { return transcript.Event{Dir: d, Line: l} }
	in := []transcript.Event{
		ev(transcript.Client, "USER alice"), ev(transcript.Client, "PASS hungry"),
		ev(transcript.Client, "a002 LOGIN alice hungry"),
		ev(transcript.Client, "AUTH PLAIN AGFsaWNlAGh1bmdyeQ=="),
		ev(transcript.Client, "AUTH LOGIN"), ev(transcript.Server, "334 VXNlcm5hbWU6"), ev(transcript.Client, "YWxpY2U="),
		ev(transcript.Server, "334 UGFzc3dvcmQ6"), ev(transcript.Client, "aHVuZ3J5"), ev(transcript.Server, "235 2.7.0 ok"),
		ev(transcript.Client, "MAIL FROM:<alice@crepes.test>"),
		ev(transcript.Client, "a003 AUTHENTICATE PLAIN"), ev(transcript.Server, "+ "), ev(transcript.Client, "AGFsaWNlAGh1bmdyeQ=="), ev(transcript.Server, "a003 OK"),
		ev(transcript.Client, "a004 SELECT INBOX"),
	}
	in[8].Notes = []note.Note{{Summary: `authentication answer in base64; it decodes to "hungry"`}}
	var got []string
	for _, e := range Redact(in) {
		got = append(got, e.Line)
		for _, n := range e.Notes {
			got = append(got, n.Summary)
		}
	}
	all := strings.Join(got, "|")
	for _, secret := range []string{"hungry", "AGFsaWNlAGh1bmdyeQ==", "aHVuZ3J5", "YWxpY2U="} {
		if strings.Contains(all, secret) {
			t.Errorf("a secret %q is left: %q", secret, got)
		}
	}
	for _, keep := range []string{"USER alice", "PASS ********", "a002 LOGIN alice ********", "AUTH PLAIN ********", "MAIL FROM:<alice@crepes.test>", "a004 SELECT INBOX", "334 VXNlcm5hbWU6"} {
		if !strings.Contains(all, keep) {
			t.Errorf("%q is missing: %q", keep, got)
		}
	}
}
