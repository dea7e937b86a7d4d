package dsn_test

// These tests read dsn.Build's output, and other MTAs' bounces, back with
// dsntest.Read: proto/mime's walk and dsn.ParseStatus, the parsers mailx
// mime decode runs.

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mailx-edu/mailx/proto/dsn"
	"github.com/mailx-edu/mailx/proto/dsn/dsntest"
)

func TestRoundTrip(t *testing.T) {
	n := dsn.SampleNotice()
	msg, err := dsn.Build(n)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := dsntest.Read(bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("Read(Build()) = %v", err)
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

func TestUTF8Address(t *testing.T) {
	n := dsn.SampleNotice()
	n.Recipients = n.Recipients[:1]
	n.Recipients[0].FinalRecipient = "jürgen+x@bücher.test"
	n.Recipients[0].Diagnostic = "550 5.1.1 jürgen unknown"
	msg, err := dsn.Build(n)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msg), `Final-Recipient: utf-8; j\x{FC}rgen\x{2B}x@b\x{FC}cher.test`) {
		t.Errorf("utf-8 address not escaped per RFC 6533:\n%s", msg)
	}
	if !strings.Contains(string(msg), "Diagnostic-Code: smtp; 550 5.1.1 j??rgen unknown") {
		t.Errorf("non-ASCII diagnostic not made 7-bit:\n%s", msg)
	}
	rep, err := dsntest.Read(bytes.NewReader(msg))
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

// TestReadPostfix reads a bounce in the shape Postfix writes, to show the
// parsers are not tied to mailx's own output.
func TestReadPostfix(t *testing.T) {
	f, err := os.Open("testdata/postfix-bounce.eml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := dsntest.Read(f)
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
	want := dsn.Recipient{
		OriginalRecipient: "nobody@example.org",
		FinalRecipient:    "nobody@example.org",
		Action:            dsn.Failed,
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

func TestReadRejects(t *testing.T) {
	cases := map[string]string{
		"not a report":  "Content-Type: text/plain\r\n\r\nhello\r\n",
		"wrong type":    "Content-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
		"no status":     "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n",
		"no recipients": "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n--b--\r\n",
		"bad action":    "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n\r\nFinal-Recipient: rfc822; a@b\r\nAction: exploded\r\nStatus: 5.0.0\r\n--b--\r\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := dsntest.Read(strings.NewReader(in)); err == nil {
				t.Errorf("Read accepted %q", in)
			}
		})
	}
}

// FuzzRead feeds arbitrary messages to the mime walk and ParseStatus:
// whatever is accepted as a report has valid recipients within the limit.

func FuzzRead(f *testing.F) {
	for _, name := range []string{"bounce.golden", "delay.golden", "postfix-bounce.eml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := dsntest.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(rep.Recipients) == 0 || len(rep.Recipients) > dsn.MaxRecipients {
			t.Fatalf("accepted a report with %d recipients", len(rep.Recipients))
		}
		for _, r := range rep.Recipients {
			if !dsn.ValidStatus(r.Status) || !dsn.ValidAction(r.Action) || r.FinalRecipient == "" {
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
		if !dsn.ValidStatus(status) || strings.TrimSpace(addr) == "" {
			return
		}
		n := dsn.Notice{
			ReportingMTA: "mx.crepes.test",
			To:           "alice@crepes.test",
			Date:         dsn.Arrival,
			QueueID:      strings.Join(strings.Fields(dsn.ASCIIOnly(qid)), ""),
			Recipients: []dsn.Recipient{{
				FinalRecipient: addr, Action: dsn.Failed, Status: status,
				RemoteMTA: strings.Join(strings.Fields(dsn.ASCIIOnly(remote)), ""), Diagnostic: diag,
			}},
		}
		msg, err := dsn.Build(n)
		if err != nil {
			return
		}
		rep, err := dsntest.Read(bytes.NewReader(msg))
		if err != nil {
			t.Fatalf("Read(Build(%+v)) = %v\n%s", n, err, msg)
		}
		r := rep.Recipients[0]
		if want := strings.Trim(addr, "<>"); r.FinalRecipient != want && utf8.ValidString(want) {
			t.Fatalf("round trip: address %q, want %q", r.FinalRecipient, want)
		}
		if r.Status != status || r.RemoteMTA != n.Recipients[0].RemoteMTA || rep.QueueID != n.QueueID {
			t.Fatalf("round trip: got %+v (queue %q), want status %q remote %q queue %q", r, rep.QueueID, status, n.Recipients[0].RemoteMTA, n.QueueID)
		}
		if wantDiag := dsn.ASCIIOnly(dsn.OneLine(diag)); r.Diagnostic != wantDiag {
			t.Fatalf("round trip: diagnostic %q, want %q", r.Diagnostic, wantDiag)
		}
	})
}
