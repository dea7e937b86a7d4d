package smtp

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mailx-edu/mailx/proto/note"
)

// enhancedClass explains the first part of an enhanced status code.
var enhancedClass = map[int]string{
	2: "success",
	4: "persistent transient failure (may work if tried again later)",
	5: "permanent failure (will not work if tried again unchanged)",
}

// enhancedSubject explains the middle part (RFC 3463 §3).
var enhancedSubject = map[int]string{
	0: "other or undefined status",
	1: "addressing status (the sender or recipient address)",
	2: "mailbox status (the recipient's mailbox)",
	3: "mail system status (the receiving host)",
	4: "network and routing status",
	5: "mail delivery protocol status (the SMTP exchange itself)",
	6: "message content or media status",
	7: "security or policy status",
}

// enhancedDetail explains subject.detail, from RFC 3463 §3 and the IANA
// registry of later additions (RFC 4954, 5248, 7372, 8689 ...).
var enhancedDetail = map[string]string{
	"0.0":  "other undefined status",
	"1.0":  "other address status",
	"1.1":  "bad destination mailbox address: the mailbox does not exist",
	"1.2":  "bad destination system address: the domain does not exist or does not take mail",
	"1.3":  "bad destination mailbox address syntax",
	"1.4":  "destination mailbox address ambiguous",
	"1.5":  "destination address valid",
	"1.6":  "destination mailbox has moved, no forwarding address",
	"1.7":  "bad sender's mailbox address syntax",
	"1.8":  "bad sender's system address: the sender's domain cannot receive replies",
	"1.9":  "message relayed to a non-compliant mailer",
	"1.10": "recipient address has a null MX: the domain never receives mail",
	"2.0":  "other or undefined mailbox status",
	"2.1":  "mailbox disabled, not accepting messages",
	"2.2":  "mailbox full",
	"2.3":  "message length exceeds the administrative limit",
	"2.4":  "mailing list expansion problem",
	"3.0":  "other or undefined mail system status",
	"3.1":  "mail system full (disk space)",
	"3.2":  "system not accepting network messages",
	"3.3":  "system not capable of selected features",
	"3.4":  "message too big for the system",
	"3.5":  "system incorrectly configured",
	"3.6":  "requested priority was changed",
	"4.0":  "other or undefined network or routing status",
	"4.1":  "no answer from host",
	"4.2":  "bad connection",
	"4.3":  "directory server failure (often DNS)",
	"4.4":  "unable to route: no MX or address for the domain",
	"4.5":  "mail system congestion",
	"4.6":  "routing loop detected",
	"4.7":  "delivery time expired: the message stayed in the queue too long",
	"5.0":  "other or undefined protocol status",
	"5.1":  "invalid command",
	"5.2":  "syntax error",
	"5.3":  "too many recipients",
	"5.4":  "invalid command arguments",
	"5.5":  "wrong protocol version",
	"5.6":  "authentication exchange line is too long",
	"6.0":  "other or undefined media error",
	"6.1":  "media not supported",
	"6.2":  "conversion required and prohibited",
	"6.3":  "conversion required but not supported (e.g. 8-bit data to a 7-bit server)",
	"6.4":  "conversion with loss performed",
	"6.5":  "conversion failed",
	"6.6":  "message content not available",
	"6.7":  "non-ASCII addresses not permitted for that sender or recipient",
	"6.8":  "UTF-8 string reply is required, but not permitted by the SMTP client",
	"6.9":  "UTF-8 header message cannot be transferred to one or more recipients",
	"6.10": "message contains unsupported 8-bit content for this server",
	"7.0":  "other or undefined security status (often: not authorised, relay denied)",
	"7.1":  "delivery not authorised, message refused (often: relaying denied, sender blocked)",
	"7.2":  "mailing list expansion prohibited",
	"7.3":  "security conversion required but not possible",
	"7.4":  "security features not supported",
	"7.5":  "cryptographic failure",
	"7.6":  "cryptographic algorithm not supported",
	"7.7":  "message integrity failure",
	"7.8":  "authentication credentials invalid",
	"7.9":  "authentication mechanism is too weak",
	"7.10": "encryption needed",
	"7.11": "encryption required for the requested authentication mechanism",
	"7.12": "a password transition is needed",
	"7.13": "user account disabled",
	"7.14": "trust relationship required",
	"7.15": "priority level is too low",
	"7.16": "message is too big for the specified priority",
	"7.17": "mailbox owner has changed",
	"7.18": "domain owner has changed",
	"7.19": "RRVS test cannot be completed",
	"7.20": "no passing DKIM signature found",
	"7.21": "no acceptable DKIM signature found",
	"7.22": "no valid author-matched DKIM signature found",
	"7.23": "SPF validation failed",
	"7.24": "SPF validation error",
	"7.25": "reverse DNS validation failed",
	"7.26": "multiple authentication checks failed (DMARC)",
	"7.27": "sender address has a null MX",
	"7.28": "mail flood detected",
	"7.29": "ARC validation failure",
	"7.30": "REQUIRETLS support required",
}

// ParseEnhanced splits "5.1.1" into its three numbers.
func ParseEnhanced(s string) (class, subject, detail int, ok bool) {
	if !IsEnhanced(s) {
		return 0, 0, 0, false
	}
	parts := strings.Split(s, ".")
	class, _ = strconv.Atoi(parts[0])
	subject, _ = strconv.Atoi(parts[1])
	detail, _ = strconv.Atoi(parts[2])
	return class, subject, detail, true
}

// ExplainEnhanced explains an RFC 3463 enhanced status code such as "5.1.1":
// its class, subject and detail. ok is false when s is not one.
func ExplainEnhanced(s string) (n note.Note, ok bool) {
	class, subject, detail, ok := ParseEnhanced(s)
	if !ok {
		return note.Note{}, false
	}
	key := fmt.Sprintf("%d.%d", subject, detail)
	what, known := enhancedDetail[key]
	if !known {
		what = "a detail code not in RFC 3463 or the IANA registry"
	}
	subj, ok2 := enhancedSubject[subject]
	if !ok2 {
		subj = "an unregistered subject"
	}
	return note.Note{
		Summary: fmt.Sprintf("%s = %s", s, what),
		Detail: fmt.Sprintf("class %d: %s\nsubject %d: %s\ndetail %d: %s",
			class, enhancedClass[class], subject, subj, detail, what),
		Ref:      "RFC 3463 §3",
		Severity: note.Info,
	}, true
}
