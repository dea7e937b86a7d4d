package dsn

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

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
