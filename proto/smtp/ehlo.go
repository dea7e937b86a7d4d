package smtp

import (
	"fmt"
	"strings"

	"github.com/mailx-edu/mailx/proto/note"
)

// keywordInfo explains one EHLO extension keyword.
type keywordInfo struct {
	Summary string
	Detail  string
	Ref     string
}

// keywords is the EHLO keyword catalogue (the IANA SMTP Service Extensions
// registry, plus the common vendor ones a student meets).
var keywords = map[string]keywordInfo{
	"PIPELINING":          {"the client may send several commands without waiting for each reply", "Saves round trips: MAIL, RCPT and DATA can go out together; replies come back in order.", "RFC 2920"},
	"SIZE":                {"the largest message the server accepts, in octets (0 or none: no fixed limit)", "Give MAIL FROM:<a@b> SIZE=n so the server can refuse a message that is too big before you send it.", "RFC 1870"},
	"8BITMIME":            {"the message may contain 8-bit text (declare it with MAIL FROM:<...> BODY=8BITMIME)", "Plain SMTP is 7-bit ASCII; without this, 8-bit text must be encoded (quoted-printable or base64).", "RFC 6152"},
	"STARTTLS":            {"the session can be upgraded to TLS in place: send STARTTLS (or \\tls)", "Afterwards everything is encrypted and the session starts over with EHLO.", "RFC 3207"},
	"AUTH":                {"logging in is possible, with the SASL mechanisms listed", "PLAIN and LOGIN send the password in base64 (readable, so only over TLS); \\auth plain USER PASS computes it for you.", "RFC 4954"},
	"ENHANCEDSTATUSCODES": {"replies carry RFC 3463 codes such as 5.1.1 after the three digits", "The x.y.z code says what failed more precisely: class, subject, detail.", "RFC 2034"},
	"SMTPUTF8":            {"addresses and headers may contain UTF-8 (internationalised e-mail)", "Declare it with MAIL FROM:<...> SMTPUTF8.", "RFC 6531"},
	"CHUNKING":            {"the message may be sent with BDAT chunks instead of DATA", "BDAT n sends exactly n octets: no dot-stuffing and no end-of-data line.", "RFC 3030"},
	"BINARYMIME":          {"binary MIME bodies may be sent (needs CHUNKING/BDAT)", "", "RFC 3030"},
	"DSN":                 {"delivery status notifications can be requested (NOTIFY=, RET=, ENVID=, ORCPT=)", "Ask for a report on success, failure or delay per recipient.", "RFC 3461"},
	"VRFY":                {"the VRFY command is available", "", "RFC 5321 §4.1.1.6"},
	"EXPN":                {"the EXPN command is available (expands mailing lists)", "", "RFC 5321 §4.1.1.7"},
	"HELP":                {"the HELP command is available", "", "RFC 5321 §4.1.1.8"},
	"REQUIRETLS":          {"the server can guarantee TLS on every later hop (MAIL FROM:<...> REQUIRETLS)", "", "RFC 8689"},
	"ETRN":                {"a client may ask the server to flush its queue for a domain (ETRN domain)", "", "RFC 1985"},
	"ATRN":                {"authenticated TURN: the roles may be reversed to pull queued mail", "", "RFC 2645"},
	"DELIVERBY":           {"a delivery deadline may be set (MAIL FROM:<...> BY=...)", "", "RFC 2852"},
	"BURL":                {"the message may be fetched from an IMAP URL instead of sent (submission)", "", "RFC 4468"},
	"MT-PRIORITY":         {"message priorities may be given (MAIL FROM:<...> MT-PRIORITY=n)", "", "RFC 6710"},
	"FUTURERELEASE":       {"delivery may be held until a given time", "", "RFC 4865"},
	"LIMITS":              {"the server announces its limits (RCPTMAX, MAILMAX, RCPTDOMAINMAX)", "", "RFC 9422"},
	"NO-SOLICITING":       {"the server asks not to be sent solicitations of the listed kinds", "", "RFC 3865"},
	"RRVS":                {"require-recipient-valid-since checks are supported", "", "RFC 7293"},
	"MTRK":                {"message tracking is supported", "", "RFC 3885"},
	"CONPERM":             {"content conversion permission is supported", "", "RFC 4141"},
	"CONNEG":              {"content negotiation is supported", "", "RFC 4141"},
	"CHECKPOINT":          {"an interrupted transfer may be resumed", "", "RFC 1845"},
	"UTF8SMTP":            {"an old, experimental form of SMTPUTF8", "", "RFC 5336 (obsolete)"},
	"XCLIENT":             {"Postfix extension: a trusted proxy may pass the real client's details", "Not for ordinary clients.", "Postfix XCLIENT_README"},
	"XFORWARD":            {"Postfix extension: a trusted filter may forward the original client's details", "Not for ordinary clients.", "Postfix XFORWARD_README"},
	"TURN":                {"the roles may be reversed (obsolete and insecure)", "", "RFC 821"},
}

// ExplainKeyword explains one line of an EHLO reply's extension list, such
// as "SIZE 35882577" or "AUTH PLAIN LOGIN". Unknown keywords are said to be
// unknown, not guessed at.
func ExplainKeyword(line string) note.Note {
	f := strings.Fields(line)
	if len(f) == 0 {
		return note.Note{}
	}
	kw := strings.ToUpper(f[0])
	params := f[1:]
	// Some old servers write "AUTH=LOGIN PLAIN" for Outlook Express.
	if k, v, ok := strings.Cut(kw, "="); ok {
		kw = k
		params = append([]string{v}, params...)
		if kw == "AUTH" {
			return note.Note{Summary: fmt.Sprintf("AUTH=%s: an old spelling of AUTH kept for Outlook Express", v), Ref: "RFC 4954"}
		}
	}
	info, ok := keywords[kw]
	if !ok {
		if strings.HasPrefix(kw, "X") {
			return note.Note{Summary: fmt.Sprintf("%s: a private extension of this server (X- names are vendor-specific)", kw)}
		}
		return note.Note{Summary: fmt.Sprintf("%s: an extension mailx does not know", kw),
			Detail: "Look it up in the IANA registry of SMTP Service Extensions."}
	}
	summary := kw + ": " + info.Summary
	switch kw {
	case "SIZE":
		if len(params) == 1 && params[0] != "0" {
			summary = fmt.Sprintf("SIZE %s: messages up to %s octets (%s) are accepted", params[0], params[0], humanSize(params[0]))
		}
	case "AUTH":
		if len(params) > 0 {
			summary = "AUTH " + strings.Join(params, " ") + ": logging in is possible with " + strings.Join(params, ", ")
		} else {
			summary = "AUTH with no mechanism listed (some servers only list them after STARTTLS)"
		}
	}
	return note.Note{Summary: summary, Detail: info.Detail, Ref: info.Ref}
}

func humanSize(s string) string {
	var n float64
	if _, err := fmt.Sscan(s, &n); err != nil || n <= 0 {
		return "size given"
	}
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", n/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", n/(1<<10))
	}
	return fmt.Sprintf("%.0f octets", n)
}

// Extensions parses the keyword lines of an EHLO reply (every line after the
// first) into upper-case keyword -> parameters.
func Extensions(r Reply) map[string][]string {
	ext := map[string][]string{}
	for i, l := range r.Lines {
		if i == 0 {
			continue
		}
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		ext[strings.ToUpper(f[0])] = f[1:]
	}
	return ext
}
