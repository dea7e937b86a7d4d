package smtp

import (
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/proto/note"
)

func summaries(notes []note.Note) string {
	var b []string
	for _, n := range notes {
		b = append(b, n.Severity.String()+":"+n.Summary)
	}
	return strings.Join(b, " | ")
}

func TestAnnotatorWarnings(t *testing.T) {
	tests := []struct {
		name  string
		setup []string // alternating client line, reply "code text"
		line  string
		want  string // substring of a warning
	}{
		{"MAIL before EHLO", nil, "MAIL FROM:<a@b.test>", "expect 503 (Send EHLO"},
		{"RCPT before MAIL", []string{"EHLO me", "250 ok"}, "RCPT TO:<b@c.test>", "Send MAIL FROM:<address> before RCPT TO"},
		{"missing brackets", []string{"EHLO me", "250 ok"}, "MAIL FROM:a@b.test", "angle brackets: FROM:<a@b.test>"},
		{"space after colon", []string{"EHLO me", "250 ok"}, "MAIL FROM: <a@b.test>", "no space after \"FROM:\""},
		{"no keyword", []string{"EHLO me", "250 ok"}, "MAIL <a@b.test>", "expected FROM:<address>"},
		{"EHLO without name", nil, "EHLO", "needs your host name"},
		{"unknown verb", nil, "HELLO there", "is not an SMTP command"},
		{"DATA with argument", []string{"EHLO me", "250 ok", "MAIL FROM:<a@b.test>", "250 ok", "RCPT TO:<c@d.test>", "250 ok"}, "DATA now", "takes no argument"},
		{"AUTH in plain text", []string{"EHLO me", "250 ok"}, "AUTH PLAIN AGEAYg==", "not encrypted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAnnotator()
			a.Server(Reply{Code: 220, Lines: []string{"mx.test"}})
			for i := 0; i+1 < len(tc.setup); i += 2 {
				a.Client(tc.setup[i])
				r, err := readReply([]string{tc.setup[i+1]})
				if err != nil {
					t.Fatal(err)
				}
				a.Server(r)
			}
			notes := a.Client(tc.line)
			for _, n := range notes {
				if n.Severity == note.Warning && strings.Contains(n.Summary, tc.want) {
					return
				}
			}
			t.Errorf("Client(%q) = %s, want a warning containing %q", tc.line, summaries(notes), tc.want)
		})
	}
}

func TestAnnotatorLowerCaseIsFine(t *testing.T) {
	a := NewAnnotator()
	a.Server(Reply{Code: 220})
	a.Client("ehlo me")
	a.Server(Reply{Code: 250})
	if a.State() != Greeted {
		t.Fatalf("state after lower-case ehlo = %v, want greeted", a.State())
	}
	for _, n := range a.Client("mail from:<a@b.test>") {
		if n.Severity == note.Warning {
			t.Errorf("lower-case MAIL got a warning: %s", n.Summary)
		}
	}
}

func TestAnnotatorDataMode(t *testing.T) {
	a := NewAnnotator()
	steps := []string{"EHLO me", "250 ok", "MAIL FROM:<a@b.test>", "250 ok", "RCPT TO:<c@d.test>", "250 ok", "DATA", "354 go ahead"}
	a.Server(Reply{Code: 220})
	for i := 0; i < len(steps); i += 2 {
		a.Client(steps[i])
		r, _ := readReply([]string{steps[i+1]})
		a.Server(r)
	}
	if a.State() != InData {
		t.Fatalf("state = %v, want data", a.State())
	}
	checks := []struct{ line, want string }{
		{"Subject: hi", "header line: Subject"},
		{"", "blank line: the headers end here"},
		{"..hidden", "dot-stuffed"},
		{".oops", "loses that dot"},
		{".", "end of message (4 lines)"},
	}
	for _, c := range checks {
		if got := summaries(a.Client(c.line)); !strings.Contains(got, c.want) {
			t.Errorf("Client(%q) = %s, want %q", c.line, got, c.want)
		}
	}
	notes := a.Server(Reply{Code: 250, Enhanced: "2.0.0", Lines: []string{"Ok: queued as ABC123"}})
	if a.State() != Greeted || !strings.Contains(notes[0].Summary, "message accepted") || !strings.Contains(notes[0].Detail, "ABC123") {
		t.Errorf("after end of data: state %v, notes %s / %q", a.State(), summaries(notes), notes[0].Detail)
	}
}

func TestAnnotatorAuthExchange(t *testing.T) {
	a := NewAnnotator()
	a.Server(Reply{Code: 220})
	a.Client("EHLO me")
	a.Server(Reply{Code: 250})
	a.Client("AUTH LOGIN")
	n := a.Server(Reply{Code: 334, Lines: []string{"VXNlcm5hbWU6"}})
	if !strings.Contains(n[0].Summary, `"Username:"`) || !a.InAuth() {
		t.Fatalf("334 notes = %s, InAuth = %v", summaries(n), a.InAuth())
	}
	if got := summaries(a.Client("Ym9i")); !strings.Contains(got, `decodes to "bob"`) {
		t.Errorf("answer notes = %s", got)
	}
	a.Server(Reply{Code: 334, Lines: []string{"UGFzc3dvcmQ6"}})
	a.Client("c2VjcmV0")
	a.Server(Reply{Code: 235})
	if a.InAuth() || a.State() != Greeted {
		t.Errorf("after 235: InAuth %v state %v", a.InAuth(), a.State())
	}
	// The next command is a command again, not base64.
	if got := summaries(a.Client("MAIL FROM:<a@b.test>")); !strings.Contains(got, "Starts a mail transaction") {
		t.Errorf("MAIL after AUTH: %s", got)
	}
}

func TestReplyContext(t *testing.T) {
	tests := []struct {
		verb  string
		state State
		reply string
		want  string
	}{
		{"DATA", InRcpt, "354 go", "type the message now"},
		{"RCPT", Greeted, "503 5.5.1 bad sequence", "Send MAIL FROM:<address> before RCPT TO"},
		{"MAIL", Greeted, "530 5.7.0 Authentication required", "log in first"},
		{"AUTH", Greeted, "535 5.7.8 bad credentials", "5.7.8 = authentication credentials invalid"},
		{"STARTTLS", Greeted, "220 go ahead", "go ahead with the TLS handshake"},
		{"", Connected, "554 5.7.1 go away", "refuses to talk to you"},
		{"NOOP", Greeted, "299 odd", "299 is not a standard code"},
	}
	for _, tc := range tests {
		r, err := readReply([]string{tc.reply})
		if err != nil {
			t.Fatal(err)
		}
		notes := ExplainReply(r, tc.verb, tc.state)
		all := summaries(notes)
		for _, n := range notes {
			all += " " + n.Next
		}
		if !strings.Contains(all, tc.want) {
			t.Errorf("ExplainReply(%q after %s in %v) = %s, want %q", tc.reply, tc.verb, tc.state, all, tc.want)
		}
	}
}

func TestCatalogueCoversRFC5321(t *testing.T) {
	for _, c := range []int{211, 214, 220, 221, 250, 251, 252, 354, 421, 450, 451, 452, 455, 500, 501, 502, 503, 504, 550, 551, 552, 553, 554, 555} {
		if _, ok := codes[c]; !ok {
			t.Errorf("reply code %d is missing from the catalogue", c)
		}
	}
	for subject := 1; subject <= 7; subject++ {
		if _, ok := enhancedSubject[subject]; !ok {
			t.Errorf("enhanced subject %d missing", subject)
		}
	}
	n, ok := ExplainEnhanced("4.2.2")
	if !ok || !strings.Contains(n.Summary, "mailbox full") || !strings.Contains(n.Detail, "persistent transient") {
		t.Errorf("ExplainEnhanced(4.2.2) = %+v", n)
	}
	if _, ok := ExplainEnhanced("3.1.1"); ok {
		t.Error("3.1.1 accepted: class 3 does not exist in RFC 3463")
	}
}

func TestExplainKeyword(t *testing.T) {
	tests := map[string]string{
		"SIZE 35882577":     "35882577 octets (34.2 MiB)",
		"AUTH PLAIN LOGIN":  "PLAIN, LOGIN",
		"auth=LOGIN":        "old spelling",
		"STARTTLS":          "upgraded to TLS",
		"FROBNICATE 3":      "an extension mailx does not know",
		"XCLIENT NAME ADDR": "Postfix",
		"XFOO":              "private extension",
	}
	for line, want := range tests {
		if got := ExplainKeyword(line); !strings.Contains(got.Summary, want) {
			t.Errorf("ExplainKeyword(%q) = %q, want %q", line, got.Summary, want)
		}
	}
}

func TestQueueID(t *testing.T) {
	tests := map[string]string{
		"250 2.0.0 Ok: queued as 4F2A1C9D":                   "4F2A1C9D",
		"250 OK id=1r2AbC-000123-4x":                         "1r2AbC-000123-4x",
		"250 2.0.0 x3F1abc123 Message accepted for delivery": "x3F1abc123",
		"250 Message accepted for delivery":                  "",
		"250 Ok":                                             "",
	}
	for line, want := range tests {
		r, err := readReply([]string{line})
		if err != nil {
			t.Fatal(err)
		}
		if got := QueueID(r); got != want {
			t.Errorf("QueueID(%q) = %q, want %q", line, got, want)
		}
	}
}

func TestParsePathArg(t *testing.T) {
	tests := []struct {
		arg, kw, addr string
		problems      int
		err           bool
	}{
		{"FROM:<a@b.test>", "FROM", "a@b.test", 0, false},
		{"from:<a@b.test> SIZE=100", "FROM", "a@b.test", 0, false},
		{"FROM:<>", "FROM", "", 0, false},
		{"TO:<Postmaster>", "TO", "Postmaster", 0, false},
		{"TO: <a@b.test>", "TO", "a@b.test", 1, false},
		{"TO:a@b.test", "TO", "a@b.test", 1, false},
		{"TO:<@relay.test:a@b.test>", "TO", "a@b.test", 1, false},
		{"TO:<>", "TO", "", 0, true},
		{"TO:<a@b.test", "TO", "", 0, true},
		{"TO:<nodomain>", "TO", "", 0, true},
		{"<a@b.test>", "TO", "", 0, true},
	}
	for _, tc := range tests {
		p, err := ParsePathArg(tc.arg, tc.kw)
		if (err != nil) != tc.err {
			t.Errorf("ParsePathArg(%q) error = %v, want error %v", tc.arg, err, tc.err)
			continue
		}
		if err == nil && (p.Address != tc.addr || len(p.Problems) != tc.problems) {
			t.Errorf("ParsePathArg(%q) = %q with problems %q, want %q with %d", tc.arg, p.Address, p.Problems, tc.addr, tc.problems)
		}
	}
}
