package queue

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/proto/dsn"
	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// ErrNoBounce is returned by Bouncer.Bounce for a message whose sender is
// the null path: it is itself a bounce (or another notification), and
// bouncing it could loop between two servers forever (RFC 5321 §6.1). Its
// failed recipients stay Failed and the message is dropped.
var ErrNoBounce = errors.New("queue: not bouncing a message from the null sender <> (it is itself a notification)")

// Bouncer turns permanent failures into RFC 3464 delivery status
// notifications (proto/dsn) and queues them to the original sender with the
// null reverse-path. The queue then routes the notice like any message: into
// the sender's Maildir when the sender is local, through the relay client
// otherwise. Use Bounce as Options.Bounce and, for delay warnings, Warn as
// Schedule.Warn; set Queue once the queue is open.
type Bouncer struct {
	// Queue receives the notifications; Bounce fails until it is set.
	Queue *Queue
	// ReportingMTA names this server in the notification (Reporting-MTA).
	ReportingMTA string
	// Schedule supplies the lifetime and time scale quoted in the text.
	Schedule Schedule
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Trace receives "bounced ..." decisions on the message's session.
	Trace transcript.Hook
}

func (b *Bouncer) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// Bounce implements Options.Bounce: one notification listing every failed
// recipient, quoting each one's last reply.
func (b *Bouncer) Bounce(ctx context.Context, msg *Message, failed []Recipient) error {
	if msg.Envelope.From == "" {
		b.trace(msg, "not sending a bounce: the failed message came from the null sender <>, so it is itself a notification, and bouncing it could loop forever (RFC 5321 §6.1)")
		return ErrNoBounce
	}
	rcpts := make([]dsn.Recipient, 0, len(failed))
	for _, r := range failed {
		rcpts = append(rcpts, b.recipient(msg, r, dsn.Failed))
	}
	id, err := b.send(msg, rcpts)
	if err != nil {
		return err
	}
	addrs := make([]string, len(failed))
	for i, r := range failed {
		addrs[i] = "<" + r.Addr + ">"
	}
	b.trace(msg, fmt.Sprintf("bounced %s: a delivery status notification to <%s> is queued as %s", strings.Join(addrs, ", "), msg.Envelope.From, id))
	return nil
}

// Warn sends a "delayed" notice for one recipient (Schedule.Warn).
func (b *Bouncer) Warn(msg *Message, r Recipient, until time.Time) {
	if msg.Envelope.From == "" {
		return
	}
	d := b.recipient(msg, r, dsn.Delayed)
	d.WillRetryUntil = until
	if id, err := b.send(msg, []dsn.Recipient{d}); err == nil {
		b.trace(msg, fmt.Sprintf("delay notice for <%s> to <%s> queued as %s", r.Addr, msg.Envelope.From, id))
	}
}

// recipient describes one recipient's failure for the notification.
func (b *Bouncer) recipient(msg *Message, r Recipient, action dsn.Action) dsn.Recipient {
	d := dsn.Recipient{FinalRecipient: r.Addr, Action: action}
	var last Attempt
	if n := len(r.Attempts); n > 0 {
		last = r.Attempts[n-1]
		d.LastAttempt = last.Time
		d.Diagnostic = last.Reply
		if last.Host != "" && last.Host != "local" && last.Host != "dns" && last.Host != "relay" {
			d.RemoteMTA = hostName(last.Host)
		}
	}
	d.Status = statusOf(last)
	if action == dsn.Failed && last.Code >= 400 && last.Code < 500 {
		// A temporary failure that lasted too long: RFC 3463's 4.4.7,
		// "delivery time expired", with the last reply kept as diagnostic.
		d.Status = "4.4.7"
		life := b.Schedule.withDefaults().Lifetime
		d.Reason = fmt.Sprintf("The mail system kept trying for %s (%d attempts) and every attempt failed temporarily, so it gave up.", HumanDuration(life), len(r.Attempts))
	}
	if strings.HasPrefix(last.Reply, "554 5.0.0 returned to sender") {
		d.Reason = "The mail administrator returned the message by hand (mailx queue bounce)."
	}
	return d
}

// statusOf returns the enhanced status code of an attempt's reply, or one
// derived from its class when the server sent none.
func statusOf(a Attempt) string {
	code, rest, _ := strings.Cut(a.Reply, " ")
	if code == fmt.Sprint(a.Code) {
		if enh, _ := smtp.SplitEnhanced(a.Code, rest); enh != "" {
			return enh
		}
	}
	switch a.Code / 100 {
	case 2:
		return "2.0.0"
	case 4:
		return "4.0.0"
	}
	return "5.0.0"
}

// hostName strips the address from "mx.hamburger.test[127.0.0.1:2526]".
//
// The relay names a host "mx.example.org[192.0.2.25:25]", or only by its
// address "127.0.0.1:33026" when it had no name (a smarthost given as an
// address, a lab exchanger). Remote-MTA is "dns; NAME" (RFC 3464 §2.3.5):
// a host name, or at least the address, never a port.
func hostName(h string) string {
	if i := strings.IndexByte(h, '['); i > 0 {
		return h[:i]
	}
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return strings.Trim(h, "[]")
}

// send builds the notification and queues it from <> to the sender.
func (b *Bouncer) send(msg *Message, rcpts []dsn.Recipient) (string, error) {
	if b.Queue == nil {
		return "", errors.New("queue: bouncer has no queue")
	}
	headers, _ := originalHeaders(msg)
	now := b.now()
	body, err := dsn.Build(dsn.Notice{
		ReportingMTA:    b.ReportingMTA,
		To:              msg.Envelope.From,
		Date:            now,
		QueueID:         msg.ID,
		ArrivalDate:     msg.Envelope.Received,
		Recipients:      rcpts,
		OriginalHeaders: headers,
	})
	if err != nil {
		return "", fmt.Errorf("queue: build notification for %s: %w", msg.ID, err)
	}
	w, err := b.Queue.Begin()
	if err != nil {
		return "", err
	}
	if _, err := w.Write(body); err != nil {
		w.Abort()
		return "", err
	}
	return w.Commit(Envelope{
		From:      dsn.Sender,
		To:        []string{msg.Envelope.From},
		Received:  now,
		Helo:      b.ReportingMTA,
		SessionID: msg.Envelope.SessionID,
		SMTPUTF8:  msg.Envelope.SMTPUTF8,
	})
}

// originalHeaders reads the header section of a queued message, at most
// 64 KiB: enough to identify it without sending the body back.
func originalHeaders(msg *Message) ([]byte, error) {
	rc, err := msg.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	br := bufio.NewReader(io.LimitReader(rc, 64<<10))
	var out bytes.Buffer
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break
		}
		out.Write(line)
		if err != nil {
			break
		}
	}
	return out.Bytes(), nil
}

func (b *Bouncer) trace(msg *Message, line string) {
	if b.Trace != nil {
		b.Trace(transcript.Event{Time: time.Now(), Session: msg.Envelope.SessionID, Proto: "smtp", Dir: transcript.Meta, Line: line})
	}
}
