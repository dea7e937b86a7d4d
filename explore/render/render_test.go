package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/proto/testkit"
)

func sample(r *Renderer) {
	r.Heading("Connected to 127.0.0.1:2525")
	r.Received("220 mx.test ESMTP mailx", Positive)
	r.Note(note.Note{Summary: "220 = service ready", Ref: "RFC 5321 §4.2", Next: "EHLO your.name"})
	r.Sent("EHLO me")
	r.Received("250-mx.test", Positive)
	r.Received("250 PIPELINING", Positive)
	r.Note(note.Note{Summary: "PIPELINING: several commands may be sent at once", Detail: "line one\nline two"})
	r.Sent("RCPT TO:bob@mx.test")
	r.Warning("the address needs angle brackets: RCPT TO:<bob@mx.test>")
	r.Received("503 5.5.1 Send MAIL FROM first", Negative)
	r.Note(note.Note{Summary: "bad sequence", Severity: note.Error})
	r.Field("server", "127.0.0.1:53")
	r.Text("plain text line")
	r.Success("message queued")
	r.Error("connection closed by server")
}

func TestPlainGolden(t *testing.T) {
	var b bytes.Buffer
	sample(New(&b, Options{}))
	testkit.Golden(t, "testdata/plain.golden", b.Bytes())
	if strings.Contains(b.String(), "\x1b[") {
		t.Error("plain output contains ANSI escapes")
	}
}

func TestColorUsesEscapes(t *testing.T) {
	var b bytes.Buffer
	sample(New(&b, Options{Color: true}))
	if !strings.Contains(b.String(), "\x1b[") {
		t.Fatal("colour output has no ANSI escapes")
	}
	// Stripped of escapes, colour output says exactly what plain output says.
	var plain bytes.Buffer
	sample(New(&plain, Options{}))
	if got := stripANSI(b.String()); got != plain.String() {
		t.Errorf("colour text differs from plain text:\n%s\n---\n%s", got, plain.String())
	}
}

func stripANSI(s string) string {
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (s[j] < '@' || s[j] > '~') {
				j++
			}
			i = j
			continue
		}
		out.WriteByte(s[i])
	}
	return out.String()
}

func TestQuietDropsNotesKeepsWarnings(t *testing.T) {
	var b bytes.Buffer
	r := New(&b, Options{Quiet: true})
	r.Sent("NOOP")
	r.Notef("does nothing")
	r.Warning("careful")
	got := b.String()
	if strings.Contains(got, "does nothing") || !strings.Contains(got, "warning: careful") || !strings.Contains(got, "C: NOOP") {
		t.Errorf("quiet output = %q", got)
	}
}

func TestJSONLines(t *testing.T) {
	var b bytes.Buffer
	r := New(&b, Options{JSON: true, Color: true}).WithPrefix("[s3] ")
	sample(r)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 15 {
		t.Fatalf("got %d JSON lines, want 15:\n%s", len(lines), b.String())
	}
	var e struct {
		Type, Session, Line, Tone string
		Note                      *note.Note
	}
	if err := json.Unmarshal([]byte(lines[1]), &e); err != nil {
		t.Fatal(err)
	}
	if e.Type != "received" || e.Session != "s3" || e.Line != "220 mx.test ESMTP mailx" || e.Tone != "positive" {
		t.Errorf("received event = %+v", e)
	}
	if err := json.Unmarshal([]byte(lines[10]), &e); err != nil || e.Note == nil || e.Note.Severity != note.Error {
		t.Errorf("note event = %s (%v)", lines[10], err)
	}
	if strings.Contains(b.String(), "\x1b[") {
		t.Error("JSON output contains ANSI escapes")
	}
}

func TestPrefixAndConcurrentWholeLines(t *testing.T) {
	var b bytes.Buffer
	base := New(&b, Options{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(r *Renderer) {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				r.Note(note.Note{Summary: "summary", Detail: "detail", Next: "next"})
			}
		}(base.WithPrefix("[s] "))
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 8*200*3 {
		t.Fatalf("got %d lines", len(lines))
	}
	for i := 0; i < len(lines); i += 3 {
		if !strings.HasSuffix(lines[i], "note: summary") || !strings.HasSuffix(lines[i+2], "next: next") {
			t.Fatalf("note block split at line %d: %q %q", i, lines[i], lines[i+2])
		}
	}
}

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"250 ok", "250 ok"},
		{"tab\there", "tab\there"},
		{"bare\rCR", `bare\x0DCR`},
		{"esc\x1b[31mred", `esc\x1B[31mred`},
		{"héllo", "héllo"},
	} {
		if got := Printable(tc.in); got != tc.want {
			t.Errorf("Printable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDuration(t *testing.T) {
	if got := Duration(1500 * time.Microsecond); got != "1.5 ms" {
		t.Errorf("Duration = %q", got)
	}
	if got := Duration(12 * time.Second); got != "12s" {
		t.Errorf("Duration = %q", got)
	}
}
