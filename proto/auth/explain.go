package auth

import "github.com/mailx-edu/mailx/proto/note"

// Explain returns what a verdict means: method is "spf", "dkim" or
// "dmarc", result one of RFC 8601's result words. Every mailx surface that
// shows a verdict (auth explain, mime decode, the web page, the spam report)
// says it with these notes.
func Explain(method, result string) note.Note {
	if n, ok := notes[method+"="+result]; ok {
		return n
	}
	return note.Note{Summary: method + "=" + result + ": a result mailx has no explanation for", Severity: note.Info}
}

var notes = map[string]note.Note{
	"spf=pass": {Summary: "SPF pass: the envelope sender's domain lists the connecting address as one of its senders",
		Detail: "The domain in MAIL FROM (the bounce address) publishes in DNS which hosts may send its mail, and the client is one of them. It says nothing about the From: line people see: that is DMARC's job.",
		Ref:    "RFC 7208 §2.6.3", Severity: note.Success},
	"spf=fail": {Summary: "SPF fail: the envelope sender's domain says this address must not send its mail",
		Detail: "The record ends in -all and no earlier term matched the client. Either the mail is forged, or it was forwarded by a host the domain does not know about.",
		Next:   "Compare the client address with the record: mailx auth explain FILE", Ref: "RFC 7208 §2.6.4", Severity: note.Error},
	"spf=softfail": {Summary: "SPF softfail: the domain says this address is probably not one of its senders (~all)",
		Detail: "A weaker fail: receivers accept the message but count it against it, as mailx's score does.", Ref: "RFC 7208 §2.6.5", Severity: note.Warning},
	"spf=neutral": {Summary: "SPF neutral: the domain makes no statement about this address (?all)", Ref: "RFC 7208 §2.6.2", Severity: note.Info},
	"spf=none": {Summary: "SPF none: the envelope sender's domain publishes no SPF record",
		Detail: "Nothing can be said; many small domains still publish none.", Ref: "RFC 7208 §2.6.1", Severity: note.Info},
	"spf=temperror": {Summary: "SPF temperror: DNS failed while checking; a later try may succeed", Ref: "RFC 7208 §2.6.6", Severity: note.Warning},
	"spf=permerror": {Summary: "SPF permerror: the domain's SPF record cannot be evaluated (syntax, two records, or more than 10 DNS lookups)",
		Next: "Check the record term by term: mailx auth explain FILE", Ref: "RFC 7208 §2.6.7", Severity: note.Error},

	"dkim=pass": {Summary: "DKIM pass: the signing domain's key verifies the signature over these header fields and this body",
		Detail: "The domain in d= takes responsibility for the message, and nothing it signed changed on the way.", Ref: "RFC 6376 §6.1", Severity: note.Success},
	"dkim=fail": {Summary: "DKIM fail: the signature does not verify: the signed header fields or the body changed after signing, or it was forged",
		Detail: "When the body hash differs from bh=, the body changed (a mailing list footer, a rewriting gateway); when it matches but the signature fails, a signed header field changed.",
		Next:   "See which: mailx auth explain FILE shows the body hash computed against bh=", Ref: "RFC 6376 §6.1.3", Severity: note.Error},
	"dkim=none":      {Summary: "DKIM none: the message carries no DKIM signature", Ref: "RFC 8601 §2.7.1", Severity: note.Info},
	"dkim=neutral":   {Summary: "DKIM neutral: a signature could not be processed (a syntax problem)", Ref: "RFC 8601 §2.7.1", Severity: note.Warning},
	"dkim=policy":    {Summary: "DKIM policy: the signature verifies but breaks the receiver's policy (e.g. too short a key)", Ref: "RFC 8601 §2.7.1", Severity: note.Warning},
	"dkim=temperror": {Summary: "DKIM temperror: the key could not be fetched from DNS right now", Ref: "RFC 6376 §6.1.2", Severity: note.Warning},
	"dkim=permerror": {Summary: "DKIM permerror: the signature or its key is unusable (missing tags, no key at the selector, a revoked key)",
		Next: "Look up the key: dig TXT SELECTOR._domainkey.DOMAIN", Ref: "RFC 6376 §6.1.2", Severity: note.Error},

	"dmarc=pass": {Summary: "DMARC pass: SPF or DKIM passed for a domain aligned with the From: address people see",
		Detail: "This ties the authentication to the visible author, which SPF and DKIM alone do not.", Ref: "RFC 7489 §4.2", Severity: note.Success},
	"dmarc=fail": {Summary: "DMARC fail: neither SPF nor DKIM passed for a domain aligned with the From: address",
		Detail: "The author's domain asks receivers to apply its policy: p=none (just report), p=quarantine (junk folder), p=reject (refuse).",
		Next:   "See which check failed and why: mailx auth explain FILE", Ref: "RFC 7489 §6.6.2", Severity: note.Error},
	"dmarc=none":      {Summary: "DMARC none: the From: domain publishes no DMARC policy", Ref: "RFC 7489 §6.6.3", Severity: note.Info},
	"dmarc=temperror": {Summary: "DMARC temperror: the policy could not be fetched from DNS right now", Ref: "RFC 7489 §6.6.3", Severity: note.Warning},
	"dmarc=permerror": {Summary: "DMARC permerror: the policy record or the From: field cannot be used", Ref: "RFC 7489 §6.6.1", Severity: note.Error},
}
