package smtp

import (
	"strings"
	"testing"
)

// TestAnnotatorBareAUTH is the regression test for a crash: "AUTH" with no
// mechanism indexed an empty list. It must warn and go on.
func TestAnnotatorBareAUTH(t *testing.T) {
	a := NewAnnotator()
	a.Server(NewReply(220, "", "mx.test ESMTP"))
	a.Client("EHLO me")
	a.Server(NewReply(250, "", "mx.test", "AUTH PLAIN"))
	for _, line := range []string{"AUTH", "AUTH ", "auth"} {
		notes := a.Client(line)
		found := false
		for _, n := range notes {
			if strings.Contains(n.Summary, "AUTH needs a mechanism") {
				found = true
			}
		}
		if !found {
			t.Errorf("Client(%q) notes = %+v, want the missing-mechanism warning", line, notes)
		}
		a.Server(NewReply(501, "5.5.4", "Syntax: AUTH mechanism"))
	}
}

// FuzzAnnotator feeds arbitrary client lines and replies through the
// annotator, as the explorer and `serve --trace` do with whatever a peer
// sends: it must never panic. Each input line is a client line, or a server
// reply when it parses as one.
func FuzzAnnotator(f *testing.F) {
	for _, s := range []string{
		"220 mx\nEHLO me\n250-mx\n250 AUTH PLAIN\nAUTH\n501 no\nAUTH PLAIN\n334 \n*\n501 cancelled",
		"220 mx\nHELO x\n250 ok\nMAIL FROM:<a@b>\n250 ok\nRCPT TO:<c@d>\n250 ok\nDATA\n354 go\n.hidden\n.\n250 queued as X\nQUIT\n221 bye",
		"220 mx\nSTARTTLS\n220 go\nBDAT 10 LAST\n250 ok\nAUTH LOGIN\n334 VXNlcm5hbWU6\nYQ==\n334 UGFzc3dvcmQ6\nYg==\n235 ok",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		a := NewAnnotator()
		for _, line := range strings.Split(in, "\n") {
			if r, err := readReply([]string{line}); err == nil {
				a.Server(r)
				continue
			}
			a.Client(line)
		}
	})
}
