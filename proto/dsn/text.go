package dsn

import (
	"fmt"
	"strings"
	"time"
)

// subjects names the second number of an RFC 3463 status code: which part
// of the system the problem is about (RFC 3463 §3).
var subjects = map[string]string{
	"0": "an unspecified problem",
	"1": "a problem with the recipient's address",
	"2": "a problem with the recipient's mailbox",
	"3": "a problem with the receiving mail system",
	"4": "a network or routing problem",
	"5": "a problem in the SMTP conversation",
	"6": "a problem with the message's content",
	"7": "a security or policy decision",
}

// details explains the status codes a student meets most often (RFC 3463 §3
// and the IANA registry of enhanced status codes).
var details = map[string]string{
	"x.1.1":  "the mailbox does not exist",
	"x.1.2":  "the destination domain does not exist or has no mail server",
	"x.1.10": "the domain publishes a null MX: it accepts no mail at all (RFC 7505)",
	"x.2.1":  "the mailbox is disabled",
	"x.2.2":  "the mailbox is full",
	"x.3.0":  "the receiving system had a problem",
	"x.3.4":  "the message is larger than the receiving system accepts",
	"x.4.1":  "no answer from the receiving server",
	"x.4.2":  "the connection broke off",
	"x.4.4":  "no server could be found to deliver to",
	"x.4.7":  "the message stayed in the queue too long",
	"x.7.1":  "the receiving server refused by policy (greylisting, relaying, blocklists)",
}

// StatusMeaning explains an enhanced status code in one short phrase, e.g.
// "5.1.1" gives "permanent failure: the mailbox does not exist".
func StatusMeaning(status string) string {
	parts := strings.Split(status, ".")
	if len(parts) != 3 {
		return "unknown status"
	}
	class := map[string]string{"2": "success", "4": "temporary failure", "5": "permanent failure"}[parts[0]]
	if class == "" {
		class = "unknown status"
	}
	if d, ok := details["x."+parts[1]+"."+parts[2]]; ok {
		return class + ": " + d
	}
	if s, ok := subjects[parts[1]]; ok {
		return class + ": " + s
	}
	return class
}

// HumanText writes the human-readable part of a notification: what happened
// to each recipient, the remote server's exact words, and what the sender can
// do about it.
func HumanText(n Notice) string {
	var b strings.Builder
	fmt.Fprintf(&b, "This is the mail system at %s.\n\n", n.ReportingMTA)
	var failed, delayed, other []Recipient
	for _, r := range n.Recipients {
		switch r.Action {
		case Failed:
			failed = append(failed, r)
		case Delayed:
			delayed = append(delayed, r)
		default:
			other = append(other, r)
		}
	}
	id := ""
	if n.QueueID != "" {
		id = " (queue id " + n.QueueID + ")"
	}
	para := func(text string) {
		for _, l := range wrap(text, 72) {
			b.WriteString(l + "\n")
		}
		b.WriteString("\n")
	}
	if len(failed) > 0 {
		para(fmt.Sprintf("Your message%s could not be delivered to %s. It has been removed from the queue and no further attempts will be made for them. Its headers are attached below so you can tell which message this was.",
			id, plural(len(failed), "recipient", "recipients")))
		for _, r := range failed {
			writeRecipient(&b, r)
		}
	}
	if len(delayed) > 0 {
		para(fmt.Sprintf("Your message%s has not yet been delivered to %s. Nothing needs doing: the mail system keeps the message in its queue and tries again later. You will hear again only if it finally gives up.",
			id, plural(len(delayed), "recipient", "recipients")))
		for _, r := range delayed {
			writeRecipient(&b, r)
		}
	}
	for _, r := range other {
		fmt.Fprintf(&b, "Report on <%s>: %s.\n\n", r.FinalRecipient, r.Action)
	}
	for i, l := range wrap("How to read this: a reply starting with 4 is a temporary failure (the sending server retries), one starting with 5 is permanent (it gives up at once). The machine-readable report follows as message/delivery-status (RFC 3464).", 72) {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(l)
	}
	b.WriteString("\n")
	return b.String()
}

func writeRecipient(b *strings.Builder, r Recipient) {
	fmt.Fprintf(b, "<%s>: %s (%s)\n", r.FinalRecipient, StatusMeaning(r.Status), r.Status)
	if r.Diagnostic != "" {
		who := "The receiving server"
		if r.RemoteMTA != "" {
			who = r.RemoteMTA
		}
		in := ""
		if r.InReplyTo != "" {
			in = " in reply to " + r.InReplyTo
		}
		fmt.Fprintf(b, "    %s said%s:\n", who, in)
		fmt.Fprintf(b, "        %s\n", oneLine(r.Diagnostic))
	}
	if r.Reason != "" {
		for _, l := range wrap(r.Reason, 68) {
			fmt.Fprintf(b, "    %s\n", l)
		}
	}
	if r.Action == Delayed && !r.WillRetryUntil.IsZero() {
		fmt.Fprintf(b, "    Will keep trying until %s.\n", r.WillRetryUntil.Format(time.RFC1123Z))
	}
	b.WriteString("\n")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// wrap breaks text into lines of at most width characters at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// actionMeanings explain RFC 3464 §2.3.3's Action values to the sender.
var actionMeanings = map[Action]string{
	"failed":    "the message could not be delivered to this recipient, and no more attempts will be made",
	"delayed":   "not delivered yet: the server keeps trying, and will report again if it gives up",
	"delivered": "delivered to the recipient's mailbox",
	"relayed":   "passed on to a system that does not send delivery reports, so this is the last word",
	"expanded":  "delivered to an alias or list, which sent it on to more addresses",
}

// ActionMeaning explains an Action value in one phrase, or says it is not
// one RFC 3464 defines.
func ActionMeaning(a Action) string {
	if m, ok := actionMeanings[Action(strings.ToLower(string(a)))]; ok {
		return m
	}
	return "not an action RFC 3464 defines (failed, delayed, delivered, relayed, expanded)"
}
