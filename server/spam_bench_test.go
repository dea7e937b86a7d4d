package server

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/server/accounts"
	srvsmtp "github.com/mailx-edu/mailx/server/smtp"
)

// BenchmarkChecks measures what the checks of one incoming message cost in
// the lab: the blocklist query at RCPT, then SPF, DKIM (two signatures),
// DMARC, the score and the filter at the end of DATA, all asking the lab DNS
// over loopback. The goal is under 2 ms per message.
func BenchmarkChecks(b *testing.B) {
	cfg := LabConfig{
		Data: b.TempDir(), DNSAddr: "127.0.0.1:0",
		Base: Config{NoTranscripts: true},
		Domains: []LabDomain{
			{Domain: "crepes.test", Users: []accounts.Credential{{Name: "alice", Password: "hungry"}}, SMTPAddr: "127.0.0.1:0"},
			{Domain: "hamburger.test", Users: []accounts.Credential{{Name: "bob", Password: "burger"}}, SMTPAddr: "127.0.0.1:0"},
		},
	}
	l := runLab(b, cfg)
	raw := []byte("Received: from laptop ([127.0.0.1]) by mx.crepes.test (mailx) with ESMTPA id 1;\r\n\tMon, 07 Dec 2026 10:00:00 +0000\r\n" +
		"From: Alice <alice@crepes.test>\r\nTo: Bob <bob@hamburger.test>\r\nSubject: lab notes\r\nDate: " + time.Now().Format(time.RFC1123Z) +
		"\r\nMessage-ID: <bench@crepes.test>\r\n\r\nHi Bob, the notes from Thursday's lab are in the shared folder.\r\n")
	signed := l.MTA("crepes.test").spam.checker.sign(&srvsmtp.Incoming{Text: raw, Submission: true})
	if signed.Text == nil {
		b.Fatalf("not signed: %v", signed.Notes)
	}
	ck := l.MTA("hamburger.test").spam.checker
	ci := srvsmtp.ClientInfo{Addr: netip.MustParseAddr("192.0.2.10"), Helo: "mx.crepes.test"}
	ctx := context.Background()
	in := &srvsmtp.Incoming{Client: ci, From: "alice@crepes.test", To: []string{"bob@hamburger.test"}, Hostname: "mx.hamburger.test"}
	b.ReportAllocs()
	for b.Loop() {
		if r, _ := ck.Client(ctx, ci, in.From, in.To[0]); r != nil {
			b.Fatal(r)
		}
		in.Text = signed.Text
		v := ck.Message(ctx, in)
		if v.Reject != nil || v.Folders["bob@hamburger.test"] != "" {
			b.Fatalf("verdict %+v", v)
		}
	}
}
