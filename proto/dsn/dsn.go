package dsn

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/proto/smtp"
)

// Action is what happened to one recipient (RFC 3464 §2.3.3).
type Action string

// The actions of RFC 3464 §2.3.3. mailx itself sends Failed and Delayed.
const (
	Failed    Action = "failed"    // could not be delivered; no more attempts
	Delayed   Action = "delayed"   // not delivered yet; still being retried
	Delivered Action = "delivered" // delivered (only sent when asked with NOTIFY=SUCCESS)
	Relayed   Action = "relayed"   // handed to a system that sends no DSNs
	Expanded  Action = "expanded"  // delivered and forwarded to several addresses
)

// Sender is the reverse-path a DSN must be sent with: the null path. A reply
// to a bounce therefore has nowhere to go, which is what stops two servers
// from bouncing bounces at each other forever (RFC 5321 §4.5.5).
const Sender = ""

// ErrNullSender is returned by Build when asked to notify the null sender:
// the original message was itself a bounce (or another notification), and
// bouncing it would start a loop.
var ErrNullSender = errors.New("dsn: the original sender is the null path <>; a bounce is never sent to it (RFC 5321 §6.1)")

// Recipient is one per-recipient group of a DSN (RFC 3464 §2.3).
type Recipient struct {
	// OriginalRecipient is the address as the sender gave it in RCPT TO,
	// when it differs from FinalRecipient (aliases, subaddresses). Optional.
	OriginalRecipient string `json:"original_recipient,omitempty"`
	// FinalRecipient is the address the reporting server tried to deliver to.
	FinalRecipient string `json:"final_recipient"`
	// Action is failed, delayed, delivered, relayed or expanded.
	Action Action `json:"action"`
	// Status is the RFC 3463 enhanced status code, e.g. "5.1.1".
	Status string `json:"status"`
	// RemoteMTA is the host name of the server that gave the reply, when a
	// remote server was reached. Optional.
	RemoteMTA string `json:"remote_mta,omitempty"`
	// Diagnostic is the remote server's reply as one line, e.g.
	// "550 5.1.1 <bob@hamburger.test>: no such user". It is written as
	// "Diagnostic-Code: smtp; <Diagnostic>". Optional.
	Diagnostic string `json:"diagnostic,omitempty"`
	// DiagnosticType is the type of Diagnostic; "smtp" when empty.
	DiagnosticType string `json:"diagnostic_type,omitempty"`
	// LastAttempt is when delivery was last tried. Optional.
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	// WillRetryUntil is when a delayed recipient will be given up. Optional,
	// and only meaningful with Action Delayed.
	WillRetryUntil time.Time `json:"will_retry_until,omitzero"`
	// InReplyTo names the command the failure answered ("RCPT TO",
	// "end of DATA", "connect"), for the human-readable part only: RFC 3464
	// has no field for it. Not read back by Parse.
	InReplyTo string `json:"-"`
	// Reason is an extra sentence for the human-readable part, such as
	// "Gave up after 5 days of temporary failures." Not read back by Parse.
	Reason string `json:"-"`
}

// Notice is everything needed to write one delivery status notification.
type Notice struct {
	// ReportingMTA is the host name of the server writing the report,
	// e.g. "mx.crepes.test". Required.
	ReportingMTA string
	// From is the notification's From: address, conventionally
	// MAILER-DAEMON@<domain>. Empty means "MAILER-DAEMON@" + ReportingMTA.
	From string
	// To is the original message's envelope sender, who gets the notice.
	// The empty string (the null path) is refused with ErrNullSender.
	To string
	// Date stamps the notification. Required (pass the queue's clock).
	Date time.Time
	// MessageID is the notification's own Message-ID, without angle brackets.
	// Empty means a random one at ReportingMTA.
	MessageID string
	// Boundary fixes the MIME boundary (golden tests). Empty means random.
	Boundary string
	// QueueID is the original message's queue id, quoted in the text and
	// written as X-Mailx-Queue-ID in the per-message group. Optional.
	QueueID string
	// EnvelopeID is the RFC 3461 ENVID of the original transaction. Optional.
	EnvelopeID string
	// ArrivalDate is when the original message was received. Optional.
	ArrivalDate time.Time
	// Recipients are the recipients being reported on; at least one.
	Recipients []Recipient
	// OriginalHeaders is the original message's header section (up to but
	// not including the blank line). Optional; attached as text/rfc822-headers.
	OriginalHeaders []byte
}

// Subject returns the notification's subject, which depends on whether any
// recipient failed for good.
func (n *Notice) Subject() string {
	for _, r := range n.Recipients {
		if r.Action == Failed {
			return "Undelivered Mail Returned to Sender"
		}
	}
	for _, r := range n.Recipients {
		if r.Action == Delayed {
			return "Delayed Mail (still being retried)"
		}
	}
	return "Delivery Status Notification"
}

// Build writes the notification as a complete message with CRLF line
// endings, ready to be queued with MAIL FROM:<> (see Sender).
func Build(n Notice) ([]byte, error) {
	if strings.TrimSpace(strings.Trim(n.To, "<>")) == "" {
		return nil, ErrNullSender
	}
	if n.ReportingMTA == "" {
		return nil, errors.New("dsn: no reporting MTA name")
	}
	if len(n.Recipients) == 0 {
		return nil, errors.New("dsn: no recipients to report on")
	}
	if n.Date.IsZero() {
		return nil, errors.New("dsn: no date")
	}
	for i, r := range n.Recipients {
		if strings.Trim(r.FinalRecipient, "<>") == "" {
			return nil, fmt.Errorf("dsn: recipient %d has no final recipient address", i+1)
		}
		if !validAction(r.Action) {
			return nil, fmt.Errorf("dsn: recipient %s: action %q is not one of failed, delayed, delivered, relayed, expanded", r.FinalRecipient, r.Action)
		}
		if !validStatus(r.Status) {
			return nil, fmt.Errorf("dsn: recipient %s: status %q is not an enhanced status code such as 5.1.1", r.FinalRecipient, r.Status)
		}
	}
	from := n.From
	if from == "" {
		from = "MAILER-DAEMON@" + n.ReportingMTA
	}
	boundary := n.Boundary
	if boundary == "" {
		boundary = "mailx-dsn-" + randomHex(12)
	}
	msgID := n.MessageID
	if msgID == "" {
		msgID = "dsn." + randomHex(8) + "@" + n.ReportingMTA
	}

	var b bytes.Buffer
	h := func(k, v string) { writeField(&b, k, v) }
	h("From", "Mail Delivery System <"+from+">")
	h("To", "<"+strings.Trim(n.To, "<>")+">")
	h("Subject", n.Subject())
	h("Date", n.Date.Format(time.RFC1123Z))
	h("Message-ID", "<"+msgID+">")
	// RFC 3834 §5: marks the message as automatic, so vacation responders
	// and other robots stay quiet.
	h("Auto-Submitted", "auto-replied")
	h("MIME-Version", "1.0")
	h("Content-Type", mime.FormatMediaType("multipart/report", map[string]string{
		"report-type": "delivery-status",
		"boundary":    boundary,
	}))
	b.WriteString("\r\n")
	b.WriteString("This is a MIME-encapsulated delivery status notification.\r\n")

	// Part 1: for people.
	human := HumanText(n)
	b.WriteString("\r\n--" + boundary + "\r\n")
	if isASCII(human) {
		b.WriteString("Content-Type: text/plain; charset=us-ascii\r\n")
		b.WriteString("Content-Description: Notification\r\n\r\n")
		b.WriteString(crlf(human))
	} else {
		b.WriteString("Content-Type: text/plain; charset=utf-8\r\n")
		b.WriteString("Content-Transfer-Encoding: quoted-printable\r\n")
		b.WriteString("Content-Description: Notification\r\n\r\n")
		qp := quotedprintable.NewWriter(&b)
		qp.Write([]byte(crlf(human)))
		qp.Close()
		b.WriteString("\r\n")
	}

	// Part 2: for programs.
	b.WriteString("\r\n--" + boundary + "\r\n")
	b.WriteString("Content-Type: message/delivery-status\r\n")
	b.WriteString("Content-Description: Delivery report\r\n\r\n")
	writeField(&b, "Reporting-MTA", "dns; "+n.ReportingMTA)
	if n.QueueID != "" {
		writeField(&b, "X-Mailx-Queue-ID", n.QueueID)
	}
	if n.EnvelopeID != "" {
		writeField(&b, "Original-Envelope-Id", n.EnvelopeID)
	}
	if !n.ArrivalDate.IsZero() {
		writeField(&b, "Arrival-Date", n.ArrivalDate.Format(time.RFC1123Z))
	}
	for _, r := range n.Recipients {
		b.WriteString("\r\n")
		if r.OriginalRecipient != "" {
			writeField(&b, "Original-Recipient", typedAddress(r.OriginalRecipient))
		}
		writeField(&b, "Final-Recipient", typedAddress(r.FinalRecipient))
		writeField(&b, "Action", string(r.Action))
		writeField(&b, "Status", r.Status)
		if r.RemoteMTA != "" {
			writeField(&b, "Remote-MTA", "dns; "+asciiOnly(r.RemoteMTA))
		}
		if diag := asciiOnly(oneLine(r.Diagnostic)); diag != "" {
			dt := r.DiagnosticType
			if dt == "" {
				dt = "smtp"
			}
			writeField(&b, "Diagnostic-Code", dt+"; "+diag)
		}
		if !r.LastAttempt.IsZero() {
			writeField(&b, "Last-Attempt-Date", r.LastAttempt.Format(time.RFC1123Z))
		}
		if !r.WillRetryUntil.IsZero() {
			writeField(&b, "Will-Retry-Until", r.WillRetryUntil.Format(time.RFC1123Z))
		}
	}

	// Part 3: which message this was about.
	if len(n.OriginalHeaders) > 0 {
		b.WriteString("\r\n--" + boundary + "\r\n")
		b.WriteString("Content-Type: text/rfc822-headers\r\n")
		b.WriteString("Content-Description: Undelivered message headers\r\n\r\n")
		hdr := crlf(string(n.OriginalHeaders))
		hdr = strings.TrimRight(hdr, "\r\n") + "\r\n"
		b.WriteString(hdr)
	}
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return b.Bytes(), nil
}

func validAction(a Action) bool {
	switch a {
	case Failed, Delayed, Delivered, Relayed, Expanded:
		return true
	}
	return false
}

// validStatus checks RFC 3464 §2.3.4's status-code: class.subject.detail
// with class 2, 4 or 5, the RFC 3463 enhanced status code SMTP replies carry.
func validStatus(s string) bool { return smtp.IsEnhanced(s) }

// writeField writes "Key: value" folded at spaces so no line passes 78
// characters where that is possible (RFC 5322 §2.1.1); a long word is kept
// whole rather than broken, since the hard limit is 998.
func writeField(b *bytes.Buffer, key, value string) {
	line := key + ":"
	width := len(line)
	for _, w := range strings.Fields(value) {
		if width+1+len(w) > 78 && width > len(key)+1 {
			b.WriteString(line + "\r\n")
			line, width = "", 0
		}
		line += " " + w
		width += 1 + len(w)
	}
	b.WriteString(line + "\r\n")
}

// typedAddress writes an address with its RFC 3464 address type: rfc822 for
// plain ASCII addresses, utf-8 with RFC 6533 §3 escapes for internationalized
// ones and for the rare ASCII address with spaces or control characters (a
// quoted local part), which would not survive header folding otherwise.
func typedAddress(addr string) string {
	addr = strings.Trim(addr, "<>")
	for i := 0; i < len(addr); i++ {
		if addr[i] < 0x21 || addr[i] > 0x7e {
			return "utf-8; " + EncodeUTF8Addr(addr)
		}
	}
	return "rfc822; " + addr
}

// EncodeUTF8Addr writes an internationalized address in RFC 6533's
// utf-8-addr-xtext form: every non-ASCII character, control character,
// backslash, '+' and '=' becomes \x{HEX}, so the field stays 7-bit.
func EncodeUTF8Addr(addr string) string {
	var b strings.Builder
	for _, r := range addr {
		if r < 0x21 || r > 0x7e || r == '\\' || r == '+' || r == '=' {
			fmt.Fprintf(&b, `\x{%X}`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// asciiOnly replaces non-ASCII and control bytes, which message/delivery-status
// may not carry (RFC 3464 §2.1: the fields are US-ASCII).
func asciiOnly(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 0x80 || (c < 0x20 && c != '\t') || c == 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// crlf converts any line ending to CRLF and ends the text with one.
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimRight(s, "\n")
	return strings.ReplaceAll(s, "\n", "\r\n") + "\r\n"
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
