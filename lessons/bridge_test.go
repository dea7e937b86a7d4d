package lessons

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A web session as server/web writes it: the "# http" event comes when a
// request ends, after the lines the bridge exchanged for it.
const webTranscript = `# mailx transcript v1
# protocol: web
# started: 2026-12-07T23:27:07Z
# session: s1
# connect: web session for alice from 127.0.0.1:51728
# imap#1 connected to 127.0.0.1:37843
S: * OK IMAP server ready
C: T1 LOGIN alice ********
S: T1 OK Logged in
# http POST /login -> 303 (59.6 ms)
C: T2 LIST "" "*"
S: T2 OK LIST completed
C: T8 SELECT INBOX
S: T8 OK [READ-WRITE] SELECT completed
C: T9 FETCH 1:2 (UID ENVELOPE FLAGS INTERNALDATE RFC822.SIZE)
S: T9 OK FETCH completed
# http GET /f/INBOX?filter=unseen -> 200 (20.0 ms)
C: T10 UID FETCH 1 (UID FLAGS BODY.PEEK[])
S: T10 OK UID FETCH completed
C: T11 UID STORE 1 +FLAGS.SILENT (\Seen)
S: T11 OK STORE completed
# http GET /m/INBOX/1 -> 200 (9.0 ms)
# smtp#2 connected to 127.0.0.1:37361
S: 220 crepes.test ESMTP
C: EHLO mailx-web
C: AUTH PLAIN ********
S: 235 2.7.0 Authentication successful
C: MAIL FROM:<alice@crepes.test>
C: RCPT TO:<bob@crepes.test>
C: DATA
C: Subject: RCPT TO:<carol@crepes.test>
C: .
S: 250 2.0.0 Ok: queued as 0006621384DB2B36
C: QUIT
C: T12 APPEND "Sent" (\Seen) {285+}
# http POST /send -> 303 (87.6 ms)
C: T13 UID MOVE 1 Trash
# http POST /m/INBOX/2/delete -> 500 (1.0 ms)
C: T14 EXAMINE Junk
`

func TestParseBridgeTranscript(t *testing.T) {
	s := ParseBridgeTranscript(strings.NewReader(webTranscript))
	if s.User != "alice" {
		t.Errorf("user %q, want alice", s.User)
	}
	var got []string
	for _, r := range s.Requests {
		got = append(got, r.Method+" "+r.Path)
	}
	want := "POST /login,GET /f/INBOX,GET /m/INBOX/1,POST /send,POST /m/INBOX/2/delete"
	if strings.Join(got, ",") != want {
		t.Fatalf("requests %q, want %q", strings.Join(got, ","), want)
	}
	if r := s.Requests[1]; r.Status != 200 || len(r.Sent) != 3 || r.Sent[1] != "T8 SELECT INBOX" {
		t.Errorf("GET /f/INBOX: %+v", r)
	}
	if r := s.Requests[4]; r.Status != 500 {
		t.Errorf("the refused request has status %d", r.Status)
	}
}

func TestParseBridgeTranscriptRefusedData(t *testing.T) {
	s := ParseBridgeTranscript(strings.NewReader("# connect: web session for bob from 127.0.0.1:1\nC: MAIL FROM:<bob@crepes.test>\nC: RCPT TO:<x@crepes.test>\nC: DATA\nS: 250 ok\nS: 550 no such user\nS: 554 no valid recipients\nC: RSET\nC: T3 APPEND \"Drafts\" {12}\n# http POST /send -> 200 (1 ms)\n"))
	if len(s.Requests) != 1 || strings.Join(s.Requests[0].Sent, "|") != "MAIL FROM:<bob@crepes.test>|RCPT TO:<x@crepes.test>|DATA|RSET|T3 APPEND \"Drafts\" {12}" {
		t.Fatalf("after a refused DATA the commands go on: %+v", s.Requests)
	}
}

type dirLab struct{ dir string }

func (l dirLab) DataDir(domain string) string              { return filepath.Join(l.dir, domain) }
func (l dirLab) Queue(domain string) ([]QueueEntry, error) { return nil, nil }

func TestBridgeCheck(t *testing.T) {
	lab := dirLab{t.TempDir()}
	empty := (&BridgeCheck{Domain: "crepes.test", User: "alice", Sent: []string{"SELECT"}}).check(lab)
	if empty.OK || empty.Failed != "bridge" || !strings.Contains(empty.Why, "no session of alice") {
		t.Errorf("no transcripts: %+v", empty)
	}
	dir := filepath.Join(lab.DataDir("crepes.test"), "web", "transcripts")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "20261207-232707-s1.txt"), []byte(webTranscript), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		b    BridgeCheck
		ok   bool
		why  string
	}{
		{"select under the folder page", BridgeCheck{User: "alice", Request: []string{"GET /f/INBOX"}, Sent: []string{"SELECT INBOX"}}, true, ""},
		{"any case, full address", BridgeCheck{User: "Alice@Crepes.Test", Request: []string{"GET /api/v1/messages", "GET /f/INBOX"}, Sent: []string{"select"}}, true, ""},
		{"a path under a prefix", BridgeCheck{User: "alice", Request: []string{"GET /m/INBOX/"}, Sent: []string{"UID FETCH", "UID STORE"}}, true, ""},
		{"smtp commands", BridgeCheck{User: "alice", Request: []string{"POST /send"}, Sent: []string{"AUTH", "MAIL FROM", "RCPT TO:<bob@crepes.test>", "DATA", "APPEND"}}, true, ""},
		{"any request", BridgeCheck{Sent: []string{"APPEND"}}, true, ""},
		{"message text is not a command", BridgeCheck{User: "alice", Request: []string{"POST /send"}, Sent: []string{"RCPT TO:<carol@crepes.test>"}}, false, "sent no RCPT TO:<carol@crepes.test>"},
		{"not under that request", BridgeCheck{User: "alice", Request: []string{"POST /send"}, Sent: []string{"SELECT"}}, false, "sent no SELECT"},
		{"sent before the request that ended meanwhile", BridgeCheck{User: "alice", Request: []string{"GET /m/INBOX/"}, Sent: []string{"SELECT"}}, true, ""},
		{"another user", BridgeCheck{User: "bob", Sent: []string{"SELECT"}}, false, "no session of bob"},
		{"a refused request", BridgeCheck{User: "alice", Request: []string{"POST /m/INBOX/"}, Sent: []string{"UID MOVE"}}, false, "refused"},
		{"a request still running", BridgeCheck{User: "alice", Sent: []string{"EXAMINE"}}, false, "sent no EXAMINE"},
		{"never asked", BridgeCheck{User: "alice", Request: []string{"GET /api/v1/messages"}}, false, "has not answered GET /api/v1/messages"},
		{"a tag is not a command", BridgeCheck{User: "alice", Sent: []string{"T8"}}, false, "sent no T8"},
	} {
		c.b.Domain = "crepes.test"
		v := c.b.check(lab)
		if v.OK != c.ok || !strings.Contains(v.Why, c.why) {
			t.Errorf("%s: got %+v, want ok=%v and %q", c.name, v, c.ok, c.why)
		}
	}
}

func TestSentMatches(t *testing.T) {
	for _, c := range []struct {
		line, want string
		ok         bool
	}{
		{"T8 SELECT INBOX", "select", true},
		{"T8 SELECT INBOX", "SELECT inbox", true},
		{"T8 SELECT INBOX", "SELECT Sent", false},
		{"MAIL FROM:<alice@crepes.test>", "MAIL FROM", true},
		{"MAIL FROM:<alice@crepes.test>", "mail from:<ALICE@crepes.test>", true},
		{"T5 UID FETCH 1 (UID FLAGS BODY.PEEK[])", "UID FETCH", true},
		{"T5 UID FETCH 1 (UID FLAGS BODY.PEEK[])", "FETCH", false},
		{"DATA", "DATA", true},
		{"Subject: DATA", "DATA", false},
		{"a001 select inbox", "SELECT", true},
		{"", "DATA", false},
		{"DATA", "", false},
	} {
		if got := sentMatches(c.line, c.want); got != c.ok {
			t.Errorf("sentMatches(%q, %q) = %v", c.line, c.want, got)
		}
	}
}

func TestMatchAnswer(t *testing.T) {
	e := Expect{Answer: []string{"SELECT", "EXAMINE"}}
	for _, a := range []string{"SELECT", "select", "The bridge sent SELECT INBOX.", "examine", "T2 Select"} {
		if v := e.matchAnswer(a); !v.OK {
			t.Errorf("%q refused: %+v", a, v)
		}
	}
	for _, a := range []string{"FETCH", "selected", "", "  ", "LIST"} {
		if v := e.matchAnswer(a); v.OK || v.Failed != "answer" {
			t.Errorf("%q accepted: %+v", a, v)
		}
	}
	smtp := Expect{Answer: []string{"MAIL RCPT DATA"}}
	for _, a := range []string{"MAIL FROM, RCPT TO, DATA", "data rcpt mail", "EHLO AUTH MAIL RCPT DATA QUIT"} {
		if v := smtp.matchAnswer(a); !v.OK {
			t.Errorf("%q refused: %+v", a, v)
		}
	}
	for _, a := range []string{"MAIL RCPT", "MAIL RCPT APPEND", "POST /send"} {
		if v := smtp.matchAnswer(a); v.OK {
			t.Errorf("%q accepted", a)
		}
	}
	w := When{Answer: []string{"COPY", "MOVE"}}
	if !w.Holds(nil, &RunResult{Answer: "uid copy"}, Verdict{}) || w.Holds(nil, &RunResult{Answer: "APPEND"}, Verdict{}) || w.Holds(nil, nil, Verdict{}) {
		t.Error("when.answer does not pick the answer's words")
	}
}

func TestURLsIn(t *testing.T) {
	for arg, want := range map[string]string{
		"http://127.0.0.1:8080/api/v1/send":   "http://127.0.0.1:8080/api/v1/send",
		"Origin: http://127.0.0.1:8080":       "http://127.0.0.1:8080",
		"user=alice":                          "",
		`{"to":["bob@crepes.test"]}`:          "",
		"a https://example.com,file:///etc/x": "https://example.com file:///etc/x",
	} {
		if got := strings.Join(urlsIn(arg), " "); got != want {
			t.Errorf("urlsIn(%q) = %q, want %q", arg, got, want)
		}
	}
	for h, ok := range map[string]bool{"127.0.0.1": true, "127.3.2.1": true, "::1": true, "localhost": true, "example.com": false, "10.0.0.1": false, "": false} {
		if loopbackHost(h) != ok {
			t.Errorf("loopbackHost(%q) != %v", h, ok)
		}
	}
}

// FuzzBridgeTranscript: transcripts are files on disk a student can edit
// before grading; reading them must never panic.
func FuzzBridgeTranscript(f *testing.F) {
	f.Add(webTranscript)
	f.Add("# http GET\n# http GET /x -> \n# connect: session for\nC: \n")
	f.Add("# http POST /send -> 99999999999999999999 (1 ms)\n")
	f.Fuzz(func(t *testing.T, text string) {
		s := ParseBridgeTranscript(strings.NewReader(text))
		for _, r := range s.Requests {
			if strings.Contains(r.Path, "?") {
				t.Fatalf("path keeps its query: %q", r.Path)
			}
			b := BridgeCheck{Domain: "x.test", Request: []string{r.Method + " " + r.Path + "/"}, Sent: r.Sent}
			_ = b.requestMatches(r)
		}
		_ = answerWords(text)
		_ = urlsIn(text)
	})
}
