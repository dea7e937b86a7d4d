package web

import (
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/proto/transcript"
)

func split(imapMode bool, chunks ...string) []string {
	var got []string
	s := lineSplitter{dir: transcript.Server, imap: imapMode, emit: func(_ transcript.Dir, l string) { got = append(got, l) }}
	for _, c := range chunks {
		s.write([]byte(c))
	}
	return got
}

// TestLineSplitter: lines are whole across reads, and an IMAP literal is
// summarised in its line rather than shown octet by octet.
func TestLineSplitter(t *testing.T) {
	got := split(true, "* 1 FETCH (UID 7 BODY[] {10}\r\nHello", "\r\nBob)\r\nT3 OK", " done\r\n")
	want := []string{"* 1 FETCH (UID 7 BODY[] {10}⟨10 octets⟩)", "T3 OK done"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
	got = split(false, "250-a\r\n250 b {3}\r\n")
	if len(got) != 2 || got[1] != "250 b {3}" {
		t.Errorf("smtp: %q", got)
	}
	long := strings.Repeat("x", 3*maxTapLine)
	got = split(true, long+"\r\n")
	if len(got) != 1 || len(got[0]) > maxTapLine+len("…") {
		t.Errorf("a long line was kept at %d octets", len(got[0]))
	}
}

// FuzzLineSplitter: whatever a server sends, in whatever pieces, the
// splitter never panics and never keeps more than maxTapLine of a line.
func FuzzLineSplitter(f *testing.F) {
	f.Add("* 1 FETCH (BODY[] {5}\r\nabcde)\r\nT1 OK x\r\n", 3, true)
	f.Add("220 hi\r\n250-a\r\n250 b\r\n", 1, false)
	f.Add("* OK {0}\r\n\r\n", 2, true)
	f.Fuzz(func(t *testing.T, data string, cut int, imapMode bool) {
		var chunks []string
		if cut <= 0 {
			cut = 1
		}
		for len(data) > 0 {
			n := min(cut, len(data))
			chunks = append(chunks, data[:n])
			data = data[n:]
		}
		for _, l := range split(imapMode, chunks...) {
			if len(l) > maxTapLine+len("…")+len("⟨9999999999 octets⟩") {
				t.Fatalf("line of %d octets", len(l))
			}
		}
	})
}
