package mime

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/dsn"
	"github.com/mailx-edu/mailx/proto/note"
)

// warningList collects the tree's warnings and every part's.
func warningList(t *Tree) []note.Note {
	ws := append([]note.Note(nil), t.Warnings...)
	t.Body.Walk(func(p *Part) { ws = append(ws, p.Warnings...) })
	return ws
}

func statusPart(t *Tree) *Part {
	var found *Part
	t.Body.Walk(func(p *Part) {
		if p.DeliveryStatus != nil && found == nil {
			found = p
		}
	})
	return found
}

// TestBounceCorpus decodes real bounces in the formats of Postfix, Exim and
// Sendmail (the RFC 3464 Appendix C examples) without a single warning, and
// reads every per-recipient group of their delivery-status part. The
// delivery-status part was once read as a nested message and reported as
// "limit reached: nesting depth over 20".
func TestBounceCorpus(t *testing.T) {
	want := map[string]struct {
		mta   string
		rcpts []string // Final-Recipient Action Status
		diag  string
	}{
		"postfix.eml":  {"mail.example.org", []string{"bob@example.net failed 5.1.1"}, "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown in virtual mailbox table"},
		"exim.eml":     {"smtp.example.com", []string{"dave@nowhere.example failed 5.0.0"}, "550 5.7.1 Relaying denied"},
		"sendmail.eml": {"cs.utk.edu", []string{"louisl@larry.slip.umd.edu failed 4.0.0"}, "426 connection timed out"},
		"multi.eml":    {"cs.utk.edu", []string{"arathib@vnet.ibm.com failed 5.0.0", "johnh@hpnjld.njd.hp.com delayed 4.0.0", "wsnell@sdcc13.ucsd.edu failed 5.0.0"}, "550 'arathib@vnet.IBM.COM' is not a registered gateway user"},
	}
	files, _ := filepath.Glob("testdata/bounces/*.eml")
	if len(files) < len(want) {
		t.Fatalf("bounce corpus: %d files, want %d", len(files), len(want))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			tree, err := Parse(bytes.NewReader(b), Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range warningList(tree) {
				t.Errorf("false warning: %s", w.Summary)
			}
			p := statusPart(tree)
			if p == nil {
				t.Fatal("no delivery-status fields read")
			}
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expectations for %s", name)
			}
			rep := p.DeliveryStatus
			if rep.ReportingMTA != w.mta {
				t.Errorf("Reporting-MTA %q, want %q", rep.ReportingMTA, w.mta)
			}
			var got []string
			for _, r := range rep.Recipients {
				got = append(got, r.FinalRecipient+" "+string(r.Action)+" "+r.Status)
			}
			if strings.Join(got, "|") != strings.Join(w.rcpts, "|") {
				t.Errorf("recipients %q, want %q", got, w.rcpts)
			}
			if rep.Recipients[0].Diagnostic != w.diag {
				t.Errorf("Diagnostic-Code %q, want %q", rep.Recipients[0].Diagnostic, w.diag)
			}
		})
	}
}

// TestOwnBounce: a bounce mailx's queue writes (dsn.Build) reads back
// through Parse with its fields and without a warning.
func TestOwnBounce(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	msg, err := dsn.Build(dsn.Notice{
		ReportingMTA: "mx.crepes.test", To: "alice@crepes.test", Date: at, ArrivalDate: at,
		OriginalHeaders: []byte("From: alice@crepes.test\r\nTo: bob@hamburger.test\r\nSubject: hi\r\n"),
		Recipients: []dsn.Recipient{{FinalRecipient: "bob@hamburger.test", Action: dsn.Failed, Status: "5.1.1",
			RemoteMTA: "mx.hamburger.test", Diagnostic: "550 5.1.1 no such user", LastAttempt: at, InReplyTo: "RCPT TO"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	tree, err := Parse(bytes.NewReader(msg), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warningList(tree) {
		t.Errorf("warning on mailx's own bounce: %s", w.Summary)
	}
	p := statusPart(tree)
	if p == nil || len(p.DeliveryStatus.Recipients) != 1 || p.DeliveryStatus.Recipients[0].RemoteMTA != "mx.hamburger.test" {
		t.Fatalf("delivery status not read: %+v", p)
	}
}

// TestBadDeliveryStatus: a delivery-status part that is not one is
// reported once, in words, and the part is still shown.
func TestBadDeliveryStatus(t *testing.T) {
	msg := hdr + "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n" +
		"Content-Type: message/delivery-status\r\n\r\nthis is not a field\r\n--b--\r\n"
	tree, err := Parse(strings.NewReader(msg), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ws := warningList(tree)
	if len(ws) != 1 || !strings.Contains(ws[0].Summary, "delivery-status fields cannot all be read") {
		t.Errorf("warnings %v, want one about the delivery-status fields", ws)
	}
	if strings.Contains(ws[0].Summary, "nesting") {
		t.Errorf("still called a nesting problem: %v", ws)
	}
}

// TestBadPartHeaderKeepsLaterParts: a NUL, a lone CR or a line without a
// colon in one part's header once made the multipart reader give up, and
// every later part vanished without a word. Now that part gets a warning
// and the parts after it are read.
func TestBadPartHeaderKeepsLaterParts(t *testing.T) {
	for name, bad := range map[string]string{
		"NUL":          "Content-Type: text/plain\r\nX-Bad: a\x00b\r\n\r\ntwo\r\n",
		"lone CR":      "Content-Type: text/plain\r\nX-A: 1\rX-B: 2\r\n\r\ntwo\r\n",
		"no colon":     "Content-Type: text/plain\r\nX-Bad\r\n\r\ntwo\r\n",
		"bare LF ends": "Content-Type: text/plain\n\ntwo\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			msg := hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\none\r\n--b\r\n" +
				bad + "--b\r\nContent-Type: text/plain\r\n\r\nthree\r\n--b--\r\n"
			tree, content := parseCollect(t, strings.NewReader(msg))
			if len(tree.Body.Parts) != 3 || string(content["3"]) != "three" || string(content["2"]) != "two" {
				t.Fatalf("parts %d, content %q; want all 3 parts", len(tree.Body.Parts), content)
			}
			if name != "bare LF ends" && len(tree.Body.Parts[1].Warnings) == 0 {
				t.Errorf("part 2 has no warning")
			}
		})
	}
}
