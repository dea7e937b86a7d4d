package dsntest

import (
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"

	"github.com/mailx-edu/mailx/proto/dsn"
	"github.com/mailx-edu/mailx/proto/mime"
)

// Limits: a notification is small, so anything beyond these is malformed
// or hostile.
const (
	MaxSize  = 4 << 20 // whole message, bytes
	MaxParts = 16      // MIME parts in the report, the multipart included
)

// ErrNotDSN is returned when a message is not a multipart/report with
// report-type=delivery-status.
var ErrNotDSN = errors.New("dsn: not a delivery status notification (multipart/report; report-type=delivery-status)")

// Read reads a delivery status notification: mailx's own and other MTAs'
// (RFC 3464, and RFC 6533's message/global-delivery-status). It fills the
// Report's header fields (From, To, Subject, Message-ID, Date), the human
// text/plain part, the per-message and per-recipient fields, and the
// original message's header section.
func Read(r io.Reader) (*dsn.Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("dsn: read: %w", err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("dsn: message larger than %d bytes", MaxSize)
	}
	rep := &dsn.Report{}
	statusParts := 0
	var statusErr error
	onPart := func(p *mime.Part, content io.Reader) error {
		body, err := io.ReadAll(io.LimitReader(content, dsn.MaxStatusSize+1))
		if err != nil {
			return fmt.Errorf("dsn: MIME part %s: %w", p.Number, err)
		}
		switch p.ContentType {
		case "message/delivery-status", "message/global-delivery-status":
			statusParts++
			st, err := dsn.ParseStatus(body)
			if err != nil && statusErr == nil {
				statusErr = err
			}
			if st != nil {
				rep.ReportingMTA, rep.QueueID, rep.EnvelopeID = st.ReportingMTA, st.QueueID, st.EnvelopeID
				rep.ArrivalDate, rep.Recipients = st.ArrivalDate, st.Recipients
			}
		case "text/rfc822-headers", "message/global-headers":
			rep.OriginalHeaders = []byte(strings.TrimRight(string(body), "\r\n"))
		case "text/plain":
			if rep.Human == "" && statusParts == 0 {
				rep.Human = strings.ReplaceAll(string(body), "\r\n", "\n")
			}
		}
		return nil
	}
	tree, err := mime.Parse(strings.NewReader(string(data)), mime.Options{OnPart: onPart})
	if err != nil {
		return nil, err
	}
	root := tree.Body
	if root == nil || root.ContentType != "multipart/report" || !strings.EqualFold(root.Params["report-type"], "delivery-status") {
		return nil, ErrNotDSN
	}
	if root.Params["boundary"] == "" {
		return nil, errors.New("dsn: multipart/report without a boundary parameter")
	}
	if tree.Parts > MaxParts {
		return nil, fmt.Errorf("dsn: more than %d MIME parts", MaxParts)
	}
	root.Walk(func(p *mime.Part) {
		// An attached original message (message/rfc822) gives its header
		// section, when no text/rfc822-headers part did.
		if p.Message != nil && rep.OriginalHeaders == nil {
			var b strings.Builder
			for i, h := range p.Message {
				if i > 0 {
					b.WriteString("\r\n")
				}
				b.WriteString(h.Name + ": " + h.Raw)
			}
			rep.OriginalHeaders = []byte(b.String())
		}
	})
	switch {
	case statusParts == 0:
		return nil, errors.New("dsn: no message/delivery-status part")
	case statusParts > 1:
		return nil, errors.New("dsn: more than one delivery-status part")
	case statusErr != nil:
		return nil, statusErr
	}
	rep.From = mime.Get(tree.Headers, "From")
	rep.To = mime.Get(tree.Headers, "To")
	rep.Subject = mime.Get(tree.Headers, "Subject")
	rep.MessageID = strings.Trim(mime.Get(tree.Headers, "Message-ID"), "<> ")
	if d, err := mail.ParseDate(mime.Get(tree.Headers, "Date")); err == nil {
		rep.Date = d
	}
	return rep, nil
}
