package dsn

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// Report is what a delivery status notification says. ParseStatus fills
// the fields of its message/delivery-status part (ReportingMTA and the
// recipients); a reader of the whole message (proto/dsn/dsntest) fills the
// header fields, the human part and the original headers too.
type Report struct {
	From      string    `json:"from"`
	To        string    `json:"to"`
	Subject   string    `json:"subject"`
	MessageID string    `json:"message_id,omitempty"`
	Date      time.Time `json:"date,omitzero"`
	// Human is the text/plain part, decoded.
	Human string `json:"human,omitempty"`
	// ReportingMTA is the name from "Reporting-MTA: dns; NAME".
	ReportingMTA string    `json:"reporting_mta"`
	QueueID      string    `json:"queue_id,omitempty"`
	EnvelopeID   string    `json:"envelope_id,omitempty"`
	ArrivalDate  time.Time `json:"arrival_date,omitzero"`
	// Recipients holds one entry per per-recipient group, in order.
	Recipients []Recipient `json:"recipients"`
	// OriginalHeaders is the attached header section of the original
	// message (text/rfc822-headers, or the headers of a message/rfc822 part).
	OriginalHeaders []byte `json:"original_headers,omitempty"`
}

// Limits for ParseStatus: a notification is small, so anything beyond
// these is malformed or hostile.
const (
	MaxRecipients = 1000 // per-recipient groups
	maxFieldLine  = 4096 // one unfolded field
)

// MaxStatusSize bounds the message/delivery-status part ParseStatus reads:
// a thousand recipient groups of a few hundred bytes each fit with room to
// spare.
const MaxStatusSize = 1 << 20

// ParseStatus reads the body of a message/delivery-status part alone (as
// mailx mime decode and the explorers' \view meet it inside a bounce): the
// per-message group and one group per recipient (RFC 3464 §2.2, §2.3).
// It returns what it could read even when it also returns an error, so
// that a bounce with one odd recipient group still shows the others.
func ParseStatus(body []byte) (*Report, error) {
	if len(body) > MaxStatusSize {
		return nil, fmt.Errorf("dsn: delivery-status part larger than %d bytes", MaxStatusSize)
	}
	rep := &Report{}
	err := rep.parseStatus(body)
	return rep, err
}

// field is one unfolded "Name: value" line of a delivery-status group.
type field struct{ name, value string }

// groups splits a message/delivery-status body into its blank-line separated
// groups of fields, unfolding continuation lines (RFC 3464 §2.1).
func groups(body []byte) ([][]field, error) {
	var out [][]field
	var cur []field
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 1024), maxFieldLine)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(cur) == 0 {
				return nil, errors.New("dsn: delivery-status group starts with a continuation line")
			}
			last := &cur[len(cur)-1]
			if len(last.value)+len(line) > maxFieldLine {
				return nil, fmt.Errorf("dsn: field %s longer than %d bytes", last.name, maxFieldLine)
			}
			last.value += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("dsn: delivery-status line %q is not a \"Name: value\" field", clip(line))
		}
		cur = append(cur, field{strings.ToLower(name), strings.TrimSpace(value)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("dsn: delivery-status part: %w", err)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out, nil
}

func (rep *Report) parseStatus(body []byte) error {
	gs, err := groups(body)
	if err != nil {
		return err
	}
	if len(gs) < 2 {
		return errors.New("dsn: delivery-status part needs a per-message group and at least one per-recipient group")
	}
	if len(gs)-1 > MaxRecipients {
		return fmt.Errorf("dsn: more than %d recipients", MaxRecipients)
	}
	for _, f := range gs[0] {
		switch f.name {
		case "reporting-mta":
			_, rep.ReportingMTA = typed(f.value)
		case "x-mailx-queue-id", "x-postfix-queue-id":
			rep.QueueID = f.value
		case "original-envelope-id":
			rep.EnvelopeID = f.value
		case "arrival-date":
			if t, err := mail.ParseDate(f.value); err == nil {
				rep.ArrivalDate = t
			}
		}
	}
	if rep.ReportingMTA == "" {
		return errors.New("dsn: per-message group has no Reporting-MTA field (RFC 3464 §2.2.2)")
	}
	for gi, g := range gs[1:] {
		var r Recipient
		for _, f := range g {
			switch f.name {
			case "original-recipient":
				r.OriginalRecipient = address(f.value)
			case "final-recipient":
				r.FinalRecipient = address(f.value)
			case "action":
				// RFC 3464 §2.3.3 allows a comment after the action.
				a, _, _ := strings.Cut(f.value, " ")
				r.Action = Action(strings.ToLower(strings.TrimSpace(a)))
			case "status":
				s, _, _ := strings.Cut(f.value, " ")
				r.Status = s
			case "remote-mta":
				_, r.RemoteMTA = typed(f.value)
			case "diagnostic-code":
				t, v := typed(f.value)
				if !strings.EqualFold(t, "smtp") {
					r.DiagnosticType = t
				}
				r.Diagnostic = v
			case "last-attempt-date":
				if t, err := mail.ParseDate(f.value); err == nil {
					r.LastAttempt = t
				}
			case "will-retry-until":
				if t, err := mail.ParseDate(f.value); err == nil {
					r.WillRetryUntil = t
				}
			}
		}
		n := gi + 1
		if r.FinalRecipient == "" {
			return fmt.Errorf("dsn: recipient group %d has no Final-Recipient field (RFC 3464 §2.3.2)", n)
		}
		if !validAction(r.Action) {
			return fmt.Errorf("dsn: recipient group %d: Action %q is not failed, delayed, delivered, relayed or expanded", n, r.Action)
		}
		if !validStatus(r.Status) {
			return fmt.Errorf("dsn: recipient group %d: Status %q is not an enhanced status code such as 5.1.1", n, r.Status)
		}
		rep.Recipients = append(rep.Recipients, r)
	}
	return nil
}

// typed splits "type; value" (RFC 3464 §2.1.2's address-type, mta-name-type
// and diagnostic-type fields). A value without a type comes back whole.
func typed(s string) (typ, value string) {
	t, v, ok := strings.Cut(s, ";")
	if !ok {
		return "", strings.TrimSpace(s)
	}
	return strings.TrimSpace(t), strings.TrimSpace(v)
}

// address reads an address field, decoding RFC 6533's utf-8 escapes.
func address(s string) string {
	t, v := typed(s)
	v = strings.Trim(v, "<>")
	if strings.EqualFold(t, "utf-8") {
		return DecodeUTF8Addr(v)
	}
	return v
}

// DecodeUTF8Addr undoes EncodeUTF8Addr: \x{HEX} escapes become characters.
// A malformed escape is kept as written.
func DecodeUTF8Addr(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, `\x{`)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		rest := s[i+3:]
		j := strings.IndexByte(rest, '}')
		if j < 1 || j > 6 {
			b.WriteString(`\x{`)
			s = rest
			continue
		}
		n, err := strconv.ParseUint(rest[:j], 16, 32)
		if err != nil || n > 0x10FFFF {
			b.WriteString(`\x{`)
			s = rest
			continue
		}
		b.WriteRune(rune(n))
		s = rest[j+1:]
	}
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
