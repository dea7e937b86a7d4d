package server

import (
	"bytes"
	"fmt"
	"net/smtp"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/queue"
	"github.com/mailx-edu/mailx/server/scenario"
	srvsmtp "github.com/mailx-edu/mailx/server/smtp"
)

// The sender-authentication teaching scenarios (server/scenario names them):
//
//	spoof        the domain's outgoing mail leaves from the lab's spammer
//	             address and unsigned (spam_ext.go: the relay client's
//	             XCLIENT and sign)
//	forward ADDR mail for the domain's users is also forwarded to ADDR, from
//	             the domain's own address with the envelope unchanged
//	list-footer  a footer is appended to each incoming message before the
//	             checks, as a mailing list manager does
//	open-relay   the domain relays for anyone; a spammer abuses it at once,
//	             the abuse desk lists it in bl.lab.test, and its own users'
//	             mail to the other lab domains is then refused (554) and
//	             bounces back to them

// ListFooter is what the list-footer scenario appends to a message body.
const ListFooter = "\r\n-- \r\nYou received this message through the lab-talk list.\r\nTo unsubscribe, write to lab-talk-leave@lists.test\r\n"

// appendFooter appends ListFooter to the body of msg.
func appendFooter(msg []byte) []byte {
	out := make([]byte, 0, len(msg)+len(ListFooter))
	out = append(out, msg...)
	if !bytes.HasSuffix(out, []byte("\r\n")) {
		out = append(out, "\r\n"...)
	}
	return append(out, ListFooter[2:]...)
}

// forward queues a copy of the checked message for addr, with the original
// envelope sender (as plain forwarding does, without SRS), and says so.
func (c *checker) forward(in *srvsmtp.Incoming, v srvsmtp.Verdict, addr string) string {
	text := in.Text
	if v.Text != nil {
		text = v.Text
	}
	if c.m.queue == nil {
		return "scenario forward: the queue is not open; not forwarded"
	}
	w, err := c.m.queue.Begin()
	if err != nil {
		return "scenario forward: cannot queue the copy: " + err.Error()
	}
	if _, err := w.Write(text); err != nil {
		w.Abort()
		return "scenario forward: cannot queue the copy: " + err.Error()
	}
	id, err := w.Commit(queue.Envelope{From: in.From, To: []string{addr}, Received: time.Now(), SessionID: in.Session, Helo: c.m.cfg.Hostname})
	if err != nil {
		return "scenario forward: cannot queue the copy: " + err.Error()
	}
	return fmt.Sprintf("scenario forward: a copy is queued as %s for %s, envelope sender <%s> unchanged: at the next hop SPF checks this server's address against %s's record", id, addr, in.From, domainOf(in.From))
}

func domainOf(a string) string {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return a[i+1:]
	}
	return a
}

// OpenRelay tells the SMTP server to relay for anyone (scenario open-relay).
func (c *checker) OpenRelay() bool { return c.m.Scenario().Name == scenario.OpenRelay }

// abuseMessages is how many spam messages the abuse of an open relay sends.
const abuseMessages = 3

// abuseOpenRelay plays the story of the course notes (SetScenario starts
// it when the scenario becomes open-relay): a spammer finds the
// open relay and sends spam through it to another lab domain; the lab's
// abuse desk then lists the relay's address in bl.lab.test, and from then on
// the other domains refuse its mail, its own users' included.
func abuseOpenRelay(m *MTA) {
	trace := func(line string) {
		m.trace.hook(transcript.Event{Time: time.Now(), Session: "scenario", Proto: "smtp", Dir: transcript.Meta, Line: line})
	}
	victim := ""
	for _, d := range m.cfg.Spam.LabDomains {
		if !m.dir.IsLocalDomain(d) {
			victim = d
			break
		}
	}
	addr := m.Addr("smtp")
	if victim == "" || addr == "" || m.cfg.Spam.LabDNS == nil {
		trace("scenario open-relay: the server relays for anyone now (no other lab domain to abuse it against)")
		return
	}
	to := "postmaster@" + victim
	if u := m.cfg.Spam.LabUsers[victim]; u != "" {
		to = u + "@" + victim
	}
	trace(fmt.Sprintf("scenario open-relay: a spammer at %s found that %s relays for anyone, and sends %d messages through it to %s", LabSpammer, m.cfg.Hostname, abuseMessages, to))
	for i := 1; i <= abuseMessages; i++ {
		if err := sendAbuse(addr, to, i); err != nil {
			trace("scenario open-relay: the abuse failed: " + err.Error())
			return
		}
	}
	// Give the relay time to deliver, as the victim's complaints would.
	time.Sleep(2 * time.Second)
	reason := fmt.Sprintf("open relay: relayed spam from %s to %s", LabSpammer, victim)
	if err := m.cfg.Spam.LabDNS.List(LabBlocklist, m.cfg.Spam.LabAddr, reason); err != nil {
		trace("scenario open-relay: could not list the relay: " + err.Error())
		return
	}
	saveBlocklist(m.cfg.Spam.LabDNS, m.cfg.Spam.LabBLFile)
	trace(fmt.Sprintf("scenario open-relay: the lab's abuse desk listed %s (%s) in %s; mail from %s is now refused at RCPT by servers that use the list: its users' mail will bounce. Switch back with: mailx serve scenario %s normal, then mailx serve blocklist del %s",
		m.cfg.Spam.LabAddr, m.cfg.Hostname, LabBlocklist, m.cfg.Hostname, m.cfg.Domains[0], m.cfg.Spam.LabAddr))
}

// sendAbuse sends one spam message through the open relay at addr as the
// lab's spammer (XCLIENT).
func sendAbuse(addr, to string, i int) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("mx.spammer.test"); err != nil {
		return err
	}
	id, err := c.Text.Cmd("XCLIENT ADDR=%s NAME=mx.spammer.test", LabSpammer)
	if err != nil {
		return err
	}
	c.Text.StartResponse(id)
	_, _, err = c.Text.ReadResponse(220)
	c.Text.EndResponse(id)
	if err != nil {
		return fmt.Errorf("XCLIENT: %w", err)
	}
	id, err = c.Text.Cmd("EHLO mx.spammer.test")
	if err != nil {
		return err
	}
	c.Text.StartResponse(id)
	_, _, err = c.Text.ReadResponse(250)
	c.Text.EndResponse(id)
	if err != nil {
		return err
	}
	if err := c.Mail("winner@prize-claims.test"); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "From: Prize Office <winner@prize-claims.test>\r\nTo: %s\r\nSubject: You have WON $1,000,000 (notice %d)!!!\r\nDate: %s\r\nMessage-ID: <abuse%d.%d@prize-claims.test>\r\n\r\nCONGRATULATIONS!!! Claim your prize now: send your bank details today.\r\nhttp://prize-claims.test/claim\r\n",
		to, i, time.Now().Format(time.RFC1123Z), i, time.Now().UnixNano())
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
