package dsn

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mailx-edu/mailx/proto/testkit"
)

var (
	arrival = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	gaveUp  = arrival.Add(5 * 24 * time.Hour)
)

func sampleNotice() Notice {
	return Notice{
		ReportingMTA: "mx.crepes.test",
		To:           "alice@crepes.test",
		Date:         gaveUp,
		MessageID:    "dsn.1@mx.crepes.test",
		Boundary:     "mailx-dsn-test",
		QueueID:      "4F2A0001",
		ArrivalDate:  arrival,
		Recipients: []Recipient{
			{
				FinalRecipient: "bob@hamburger.test",
				Action:         Failed,
				Status:         "5.1.1",
				RemoteMTA:      "mx.hamburger.test",
				Diagnostic:     "550 5.1.1 <bob@hamburger.test>: no such user here",
				LastAttempt:    arrival.Add(time.Minute),
				InReplyTo:      "RCPT TO",
			},
			{
				OriginalRecipient: "carol+news@hill.test",
				FinalRecipient:    "carol@hill.test",
				Action:            Failed,
				Status:            "4.4.7",
				RemoteMTA:         "mx.hill.test",
				Diagnostic:        "451 4.7.1 Greylisted, please try again later",
				LastAttempt:       gaveUp,
				Reason:            "Gave up after 5 days of temporary failures: the message stayed in the queue too long.",
			},
		},
		OriginalHeaders: []byte("From: Alice <alice@crepes.test>\r\nTo: bob@hamburger.test\r\nSubject: crepes tonight?\r\n"),
	}
}

func TestBuildGolden(t *testing.T) {
	msg, err := Build(sampleNotice())
	if err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "testdata/bounce.golden", msg)

	n := sampleNotice()
	n.Recipients = []Recipient{{
		FinalRecipient: "bob@hamburger.test",
		Action:         Delayed,
		Status:         "4.4.1",
		RemoteMTA:      "mx.hamburger.test",
		Diagnostic:     "421 4.4.1 mx.hamburger.test is down for the lab",
		LastAttempt:    arrival.Add(4 * time.Hour),
		WillRetryUntil: gaveUp,
		InReplyTo:      "connect",
	}}
	msg, err = Build(n)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Golden(t, "testdata/delay.golden", msg)
}

func TestBuildWireRules(t *testing.T) {
	msg, err := Build(sampleNotice())
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(msg), "\r\n") {
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("line %d has a bare CR or LF: %q", i+1, line)
		}
		if len(line) > 998 {
			t.Errorf("line %d is %d bytes, over RFC 5322's 998", i+1, len(line))
		}
	}
	if !bytes.HasSuffix(msg, []byte("--\r\n")) {
		t.Errorf("message does not end with the closing boundary")
	}
}

func TestRoundTrip(t *testing.T) {
	n := sampleNotice()
	msg, err := Build(n)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Parse(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("Parse(Build()) = %v", err)
	}
	if rep.ReportingMTA != n.ReportingMTA || rep.QueueID != n.QueueID || !rep.ArrivalDate.Equal(n.ArrivalDate) {
		t.Errorf("per-message fields = %q %q %v, want %q %q %v", rep.ReportingMTA, rep.QueueID, rep.ArrivalDate, n.ReportingMTA, n.QueueID, n.ArrivalDate)
	}
	if rep.Subject != "Undelivered Mail Returned to Sender" || rep.To != "<alice@crepes.test>" {
		t.Errorf("Subject, To = %q, %q", rep.Subject, rep.To)
	}
	want := n.Recipients
	for i := range want {
		want[i].InReplyTo, want[i].Reason = "", ""
	}
	if len(rep.Recipients) != len(want) {
		t.Fatalf("got %d recipients, want %d", len(rep.Recipients), len(want))
	}
	for i := range want {
		got := rep.Recipients[i]
		if !got.LastAttempt.Equal(want[i].LastAttempt) {
			t.Errorf("recipient %d LastAttempt = %v, want %v", i, got.LastAttempt, want[i].LastAttempt)
		}
		got.LastAttempt, want[i].LastAttempt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("recipient %d = %+v, want %+v", i, got, want[i])
		}
	}
	if !strings.Contains(rep.Human, "550 5.1.1 <bob@hamburger.test>: no such user here") {
		t.Errorf("human part does not quote the remote reply:\n%s", rep.Human)
	}
	if string(rep.OriginalHeaders) != "From: Alice <alice@crepes.test>\r\nTo: bob@hamburger.test\r\nSubject: crepes tonight?" {
		t.Errorf("OriginalHeaders = %q", rep.OriginalHeaders)
	}
}

func TestNeverBounceToNullSender(t *testing.T) {
	for _, to := range []string{"", "<>", " "} {
		n := sampleNotice()
		n.To = to
		if _, err := Build(n); !errors.Is(err, ErrNullSender) {
			t.Errorf("Build(To=%q) error = %v, want ErrNullSender", to, err)
		}
	}
}

func TestBuildRefusesBadInput(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Notice)
	}{
		{"no recipients", func(n *Notice) { n.Recipients = nil }},
		{"bad status", func(n *Notice) { n.Recipients[0].Status = "550" }},
		{"bad action", func(n *Notice) { n.Recipients[0].Action = "bounced" }},
		{"no reporting MTA", func(n *Notice) { n.ReportingMTA = "" }},
		{"no date", func(n *Notice) { n.Date = time.Time{} }},
		{"no address", func(n *Notice) { n.Recipients[0].FinalRecipient = "" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := sampleNotice()
			tc.edit(&n)
			if _, err := Build(n); err == nil {
				t.Errorf("Build accepted a notice with %s", tc.name)
			}
		})
	}
}

func TestUTF8Address(t *testing.T) {
	n := sampleNotice()
	n.Recipients = n.Recipients[:1]
	n.Recipients[0].FinalRecipient = "jürgen+x@bücher.test"
	n.Recipients[0].Diagnostic = "550 5.1.1 jürgen unknown"
	msg, err := Build(n)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msg), `Final-Recipient: utf-8; j\x{FC}rgen\x{2B}x@b\x{FC}cher.test`) {
		t.Errorf("utf-8 address not escaped per RFC 6533:\n%s", msg)
	}
	if !strings.Contains(string(msg), "Diagnostic-Code: smtp; 550 5.1.1 j??rgen unknown") {
		t.Errorf("non-ASCII diagnostic not made 7-bit:\n%s", msg)
	}
	rep, err := Parse(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Recipients[0].FinalRecipient; got != "jürgen+x@bücher.test" {
		t.Errorf("FinalRecipient = %q, want the decoded address", got)
	}
	if !strings.Contains(rep.Human, "jürgen+x@bücher.test") {
		t.Errorf("human part (quoted-printable) did not decode:\n%s", rep.Human)
	}
}

// TestParsePostfix reads a bounce in the shape Postfix writes, to show the
// parser is not tied to mailx's own output.
func TestParsePostfix(t *testing.T) {
	f, err := os.Open("testdata/postfix-bounce.eml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ReportingMTA != "mail.example.com" || rep.QueueID != "3F1A2" {
		t.Errorf("ReportingMTA, QueueID = %q, %q", rep.ReportingMTA, rep.QueueID)
	}
	if len(rep.Recipients) != 1 {
		t.Fatalf("got %d recipients, want 1", len(rep.Recipients))
	}
	r := rep.Recipients[0]
	want := Recipient{
		OriginalRecipient: "nobody@example.org",
		FinalRecipient:    "nobody@example.org",
		Action:            Failed,
		Status:            "5.1.1",
		RemoteMTA:         "mx.example.org",
		Diagnostic:        "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown",
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("recipient = %+v\nwant %+v", r, want)
	}
	if rep.ArrivalDate.IsZero() || !strings.Contains(string(rep.OriginalHeaders), "Subject: hello") {
		t.Errorf("ArrivalDate %v, OriginalHeaders %q", rep.ArrivalDate, rep.OriginalHeaders)
	}
}

func TestParseRejects(t *testing.T) {
	cases := map[string]string{
		"not a report":  "Content-Type: text/plain\r\n\r\nhello\r\n",
		"wrong type":    "Content-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
		"no status":     "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n",
		"no recipients": "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n--b--\r\n",
		"bad action":    "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; a@b\r\nAction: exploded\r\nStatus: 5.0.0\r\n--b--\r\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(strings.NewReader(in)); err == nil {
				t.Errorf("Parse accepted %q", in)
			}
		})
	}
}

func TestStatusMeaning(t *testing.T) {
	for status, want := range map[string]string{
		"5.1.1":  "permanent failure: the mailbox does not exist",
		"4.2.2":  "temporary failure: the mailbox is full",
		"5.1.10": "permanent failure: the domain publishes a null MX: it accepts no mail at all (RFC 7505)",
		"4.9.9":  "temporary failure",
		"5.6.9":  "permanent failure: a problem with the message's content",
		"junk":   "unknown status",
	} {
		if got := StatusMeaning(status); got != want {
			t.Errorf("StatusMeaning(%q) = %q, want %q", status, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"bounce.golden", "delay.golden", "postfix-bounce.eml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(rep.Recipients) == 0 || len(rep.Recipients) > MaxRecipients {
			t.Fatalf("accepted a report with %d recipients", len(rep.Recipients))
		}
		for _, r := range rep.Recipients {
			if !validStatus(r.Status) || !validAction(r.Action) || r.FinalRecipient == "" {
				t.Fatalf("accepted invalid recipient %+v", r)
			}
		}
	})
}

// FuzzRoundTrip checks parse(build(x)) == x for the fields a DSN carries.
func FuzzRoundTrip(f *testing.F) {
	f.Add("bob@hamburger.test", "5.1.1", "mx.hamburger.test", "550 5.1.1 no such user", "4F2A")
	f.Add("jürgen@bücher.test", "4.2.2", "", "452 4.2.2 mailbox full\tfor now", "")
	f.Fuzz(func(t *testing.T, addr, status, remote, diag, qid string) {
		if !validStatus(status) || strings.TrimSpace(addr) == "" {
			return
		}
		n := Notice{
			ReportingMTA: "mx.crepes.test",
			To:           "alice@crepes.test",
			Date:         arrival,
			QueueID:      strings.Join(strings.Fields(asciiOnly(qid)), ""),
			Recipients: []Recipient{{
				FinalRecipient: addr, Action: Failed, Status: status,
				RemoteMTA: strings.Join(strings.Fields(asciiOnly(remote)), ""), Diagnostic: diag,
			}},
		}
		msg, err := Build(n)
		if err != nil {
			return
		}
		rep, err := Parse(bytes.NewReader(msg))
		if err != nil {
			t.Fatalf("Parse(Build(%+v)) = %v\n%s", n, err, msg)
		}
		r := rep.Recipients[0]
		if want := strings.Trim(addr, "<>"); r.FinalRecipient != want && utf8.ValidString(want) {
			t.Fatalf("round trip: address %q, want %q", r.FinalRecipient, want)
		}
		if r.Status != status || r.RemoteMTA != n.Recipients[0].RemoteMTA || rep.QueueID != n.QueueID {
			t.Fatalf("round trip: got %+v (queue %q), want status %q remote %q queue %q", r, rep.QueueID, status, n.Recipients[0].RemoteMTA, n.QueueID)
		}
		if wantDiag := asciiOnly(oneLine(diag)); r.Diagnostic != wantDiag {
			t.Fatalf("round trip: diagnostic %q, want %q", r.Diagnostic, wantDiag)
		}
	})
}

// FuzzParseStatus feeds arbitrary delivery-status bodies to ParseStatus:
// it must never panic, must stay within its limits, and whatever it
// returns must be consistent (every recipient it keeps has the fields RFC
// 3464 requires, and nothing it reports is longer than the input).
func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("Reporting-MTA: dns; mx.test\r\n\r\nFinal-Recipient: rfc822; bob@x.test\r\nAction: failed\r\nStatus: 5.1.1\r\n"))
	f.Add([]byte("Reporting-MTA: dns; cs.utk.edu\n\nOriginal-Recipient: rfc822;a@b\nFinal-Recipient: rfc822;a@b\nAction: delayed\nStatus: 4.0.0 (x)\nDiagnostic-Code: smtp; 550 'a' is not a\n    registered user\nRemote-MTA: dns; vnet\n"))
	f.Add([]byte("Reporting-MTA: x\n\n Final-Recipient: utf-8; b\\x{E9}b@x\nAction: FAILED\nStatus: 5.0.0\n\nFinal-Recipient: c\n"))
	f.Add([]byte("\n\n\n: \n\t\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		rep, err := ParseStatus(body)
		if rep == nil {
			if err == nil {
				t.Fatal("nil report and no error")
			}
			return
		}
		if len(rep.Recipients) > MaxRecipients {
			t.Fatalf("%d recipients, limit %d", len(rep.Recipients), MaxRecipients)
		}
		for _, r := range rep.Recipients {
			if r.FinalRecipient == "" || !validAction(r.Action) || !validStatus(r.Status) {
				t.Fatalf("recipient kept without its required fields: %+v", r)
			}
			if len(r.Diagnostic) > len(body) || len(r.FinalRecipient) > len(body)*4 {
				t.Fatalf("fields longer than the input: %+v", r)
			}
		}
	})
}
