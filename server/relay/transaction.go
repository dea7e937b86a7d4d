package relay

import (
	"fmt"
	"strconv"
	"strings"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/queue"
)

// txn is one mail transaction (RFC 5321 §3.3) on an open session: the
// envelope as it goes on the wire, and what each recipient got so far.
type txn struct {
	c    *Client
	cv   *conv
	host string // who answers, for the Results: "mx.example[192.0.2.1:25]"
	msg  *queue.Message
	lost func(when string, err error) queue.Result

	mail       string   // the MAIL FROM line with its parameters
	lines      []string // the RCPT TO lines to send...
	who        []int    // ...and the recipient each is for
	pipelining bool     // RFC 2920: MAIL, the RCPTs and DATA go in one group
	accepted   int      // recipients the server took with 2xx

	results []queue.Result // one per recipient, in the caller's order
	decided []bool         // results[i] is final for this session
}

// step is how one step of a transaction ended.
type step int

const (
	goOn    step = iota // the transaction goes on with its next step
	stopped             // the transaction is over; every recipient has its Result
	tryNext             // over, and the caller should try the next exchanger
)

// over turns a step that ended the transaction into session's answer.
func (s step) over() bool { return s == tryNext }

// transaction sends one message, step by step: check what the server
// accepts (SIZE, SMTPUTF8) and build the envelope lines (prepare); send
// MAIL, every RCPT and DATA at once when the server pipelines; read MAIL's
// reply (mail), each RCPT's (rcpts), DATA's (data); then the text and its
// final reply (text). Each step's replies are classified into Results as
// they come: 2xx goes on, 4xx and 5xx decide the recipients concerned, 421
// ends the session.
func (c *Client) transaction(cv *conv, host string, ext map[string][]string, msg *queue.Message, rcpts []string, lost func(string, error) queue.Result) ([]queue.Result, bool) {
	tx := &txn{c: c, cv: cv, host: host, msg: msg, lost: lost,
		results: make([]queue.Result, len(rcpts)), decided: make([]bool, len(rcpts))}
	_, tx.pipelining = ext["PIPELINING"]
	for _, s := range []func() step{
		func() step { return tx.prepare(ext, rcpts) },
		tx.sendPipelined,
		tx.mailReply,
		tx.rcptReplies,
		tx.data,
		tx.text,
	} {
		if r := s(); r != goOn {
			return tx.results, r.over()
		}
	}
	return tx.results, false
}

// prepare checks the message against the server's limits and builds the
// MAIL and RCPT lines. A message larger than the server's SIZE (RFC 1870)
// is not sent at all; an address that needs SMTPUTF8 (RFC 6531) from a
// server that lacks it fails alone (a sender's fails every recipient).
func (tx *txn) prepare(ext map[string][]string, rcpts []string) step {
	env, host, size := tx.msg.Envelope, tx.host, tx.msg.Size
	if p := ext["SIZE"]; len(p) > 0 {
		if max, err := strconv.ParseInt(p[0], 10, 64); err == nil && max > 0 && size > max {
			tx.cv.tr(transcript.Meta, fmt.Sprintf("the message (%d octets) is larger than the %d the server accepts (SIZE): not sending it", size, max))
			return tx.giveUp(failure(host, 552, "5.3.4", "message of %d octets exceeds the %d octets %s accepts (its EHLO SIZE)", size, max, host))
		}
	}
	_, utf8OK := ext["SMTPUTF8"]
	from, ok := wireAddr(env.From, utf8OK)
	if !ok {
		tx.cv.tr(transcript.Meta, "the sender address needs SMTPUTF8 and the server does not offer it")
		return tx.giveUp(failure(host, 553, "5.6.7", "<%s>: the sender address is not ASCII and %s does not offer SMTPUTF8 (RFC 6531)", env.From, host))
	}
	tx.mail = "MAIL FROM:<" + from + ">"
	if _, ok := ext["SIZE"]; ok {
		tx.mail += " SIZE=" + strconv.FormatInt(size, 10)
	}
	if _, ok := ext["8BITMIME"]; ok && strings.EqualFold(env.BodyType, "8BITMIME") {
		tx.mail += " BODY=8BITMIME"
	}
	if env.SMTPUTF8 && utf8OK {
		tx.mail += " SMTPUTF8"
	}
	for i, a := range rcpts {
		w, ok := wireAddr(a, utf8OK)
		if !ok {
			tx.decide(i, failure(host, 553, "5.6.7", "<%s>: the address is not ASCII and %s does not offer SMTPUTF8 (RFC 6531)", a, host))
			continue
		}
		tx.lines = append(tx.lines, "RCPT TO:<"+w+">")
		tx.who = append(tx.who, i)
	}
	if len(tx.lines) == 0 {
		tx.cv.quit()
		return stopped
	}
	return goOn
}

// giveUp ends the transaction before MAIL with r for every recipient.
func (tx *txn) giveUp(r queue.Result) step {
	tx.cv.quit()
	tx.fillRest(r)
	return stopped
}

// decide gives recipient i its Result for this session.
func (tx *txn) decide(i int, r queue.Result) { tx.results[i], tx.decided[i] = r, true }

// fillRest gives r to every recipient not decided yet.
func (tx *txn) fillRest(r queue.Result) {
	for i := range tx.results {
		if !tx.decided[i] {
			tx.decide(i, r)
		}
	}
}

// lostAt fills the undecided recipients with a lost connection: the next
// exchanger is worth a try (next), unless the server may have taken the
// message already.
func (tx *txn) lostAt(when string, err error, next bool) step {
	tx.fillRest(tx.lost(when, err))
	if next {
		return tryNext
	}
	return stopped
}

// sendPipelined sends MAIL, every RCPT and DATA in one group when the server
// offers PIPELINING (RFC 2920 §3.1); the replies come back in the same
// order, and the next steps read them. Without PIPELINING it does nothing:
// each step then sends its own command and waits.
func (tx *txn) sendPipelined() step {
	if !tx.pipelining {
		return goOn
	}
	cv := tx.cv
	cv.tr(transcript.Meta, fmt.Sprintf("PIPELINING: sending MAIL, %d RCPT and DATA at once", len(tx.lines)))
	expect := cv.state
	group := append(append([]string{tx.mail}, tx.lines...), "DATA")
	for _, l := range group {
		if err := cv.send(l, expect); err != nil {
			return tx.lostAt("while sending commands", err, true)
		}
		verb, _ := smtp.Verb(l)
		expect = smtp.Next(expect, verb, successCode(verb))
	}
	if err := cv.w.Flush(); err != nil {
		return tx.lostAt("while sending commands", err, true)
	}
	return goOn
}

// sendOne sends a command on its own (no PIPELINING) and flushes it.
func (tx *txn) sendOne(line string) error {
	if err := tx.cv.send(line, tx.cv.state); err != nil {
		return err
	}
	return tx.cv.w.Flush()
}

// mailReply sends MAIL FROM (without PIPELINING) and reads its reply. A
// refusal decides every recipient; after a pipelined group the replies to
// the RCPTs and DATA (503s) are read too, so the session stays in step
// for QUIT.
func (tx *txn) mailReply() step {
	cv := tx.cv
	if !tx.pipelining {
		if err := tx.sendOne(tx.mail); err != nil {
			return tx.lostAt("while sending MAIL FROM", err, true)
		}
	}
	r, err := cv.read("MAIL", tx.c.to.Command)
	if err != nil {
		return tx.lostAt("after MAIL FROM", err, true)
	}
	if r.Code/100 == 2 {
		return goOn
	}
	tx.fillRest(fromReply(tx.host, r))
	if r.Code == 421 {
		return tryNext
	}
	if tx.pipelining {
		for range tx.lines {
			if _, err := cv.read("RCPT", tx.c.to.Command); err != nil {
				return stopped
			}
		}
		if r, err := cv.read("DATA", tx.c.to.DataInit); err != nil || r.Code == 354 {
			return stopped
		}
	}
	cv.quit()
	return stopped
}

// rcptReplies sends each RCPT TO (without PIPELINING) and reads its reply:
// 2xx counts the recipient as accepted, anything else decides it, and 421
// (the server is closing) decides every recipient left. Once any
// recipient was accepted the next exchanger is not tried: it would get
// the message a second time.
func (tx *txn) rcptReplies() step {
	for k, l := range tx.lines {
		if !tx.pipelining {
			if err := tx.sendOne(l); err != nil {
				return tx.lostAt("after RCPT TO", err, tx.accepted == 0)
			}
		}
		r, err := tx.cv.read("RCPT", tx.c.to.Command)
		if err != nil {
			return tx.lostAt("after RCPT TO", err, tx.accepted == 0)
		}
		if r.Code/100 == 2 {
			tx.accepted++
			continue
		}
		tx.decide(tx.who[k], fromReply(tx.host, r))
		if r.Code == 421 {
			tx.fillRest(fromReply(tx.host, r))
			if tx.accepted == 0 {
				return tryNext
			}
			return stopped
		}
	}
	return goOn
}

// data sends DATA (without PIPELINING, and only if a recipient was
// accepted) and reads its reply, which must be 354. A pipelined DATA may
// get 354 although no recipient was accepted (RFC 2920 §3.1): the empty
// message is ended at once, so the session stays in step.
func (tx *txn) data() step {
	cv := tx.cv
	if !tx.pipelining {
		if tx.accepted == 0 {
			cv.quit()
			return stopped
		}
		if err := tx.sendOne("DATA"); err != nil {
			return tx.lostAt("after DATA", err, true)
		}
	}
	r, err := cv.read("DATA", tx.c.to.DataInit)
	if err != nil {
		return tx.lostAt("after DATA", err, true)
	}
	if r.Code != 354 {
		if tx.accepted > 0 {
			tx.fillRest(fromReply(tx.host, r))
		}
		cv.quit()
		if r.Code == 421 {
			return tryNext
		}
		return stopped
	}
	if tx.accepted == 0 {
		cv.tr(transcript.Meta, "no recipient was accepted: ending DATA at once with an empty message")
		cv.send(".", cv.state)
		cv.w.Flush()
		cv.read(".", tx.c.to.DataEnd)
		cv.quit()
		return stopped
	}
	return goOn
}

// text sends the message and reads the final reply, which decides every
// accepted recipient. A connection lost after the final "." is not retried
// elsewhere at once: the server may have taken the message, and RFC 5321
// §4.1.1.4 and §6.1 prefer the risk of a duplicate (a later retry) to the
// risk of a loss.
func (tx *txn) text() step {
	cv := tx.cv
	if err := tx.c.sendText(cv, tx.msg); err != nil {
		return tx.lostAt("while sending the message", err, true)
	}
	r, err := cv.read(".", tx.c.to.DataEnd)
	if err != nil {
		return tx.lostAt("after the end of the message (it may arrive twice)", err, false)
	}
	if r.Code/100 == 2 {
		if id := smtp.QueueID(r); id != "" {
			cv.tr(transcript.Meta, fmt.Sprintf("%s accepted the message for %d recipient(s) as queue id %s", tx.host, tx.accepted, id))
		}
	}
	tx.fillRest(fromReply(tx.host, r))
	cv.quit()
	return stopped
}
