package mx

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
)

// Name is a mail domain in the forms a person and DNS need.
type Name struct {
	// Input is the domain as it was given, for messages.
	Input string `json:"input"`
	// ASCII is the A-label form asked in DNS, lower case, without the
	// trailing dot: xn--bcher-kva.test.
	ASCII string `json:"ascii"`
	// Unicode is the U-label form for display: bücher.test. It equals ASCII
	// for a name without internationalized labels.
	Unicode string `json:"unicode"`
}

// IDN reports whether the name has internationalized labels, that is whether
// its DNS form differs from its display form.
func (n Name) IDN() bool { return n.ASCII != n.Unicode }

// FQDN returns the ASCII form with the trailing dot DNS messages carry.
func (n Name) FQDN() string { return n.ASCII + "." }

// String returns the display form, with the A-label in parentheses when the
// two differ: "bücher.test (xn--bcher-kva.test)".
func (n Name) String() string {
	if n.IDN() {
		return n.Unicode + " (" + n.ASCII + ")"
	}
	return n.ASCII
}

// Limits from RFC 1035 §2.3.4: a label holds at most 63 octets and a name at
// most 255 on the wire, which is 253 characters in text without the final dot.
const (
	maxLabel = 63
	maxName  = 253
)

// ParseDomain checks a mail domain and converts it to its A-label form, the
// way an MTA must before asking DNS (RFC 5891 §5). It accepts one trailing
// dot and any case; it refuses what cannot be a mail domain, with a message
// that says why: an empty name or label, an address (bob@example.com), an IP
// address or address literal (those need no MX lookup), characters outside
// letters, digits and hyphens (RFC 5321 §4.1.2 "Let-dig"/"Ldh-str"), labels
// over 63 octets, names over 253.
//
// The error is an *Error with Kind ErrMalformed.
func ParseDomain(s string) (Name, error) {
	bad := func(format string, args ...any) (Name, error) {
		return Name{}, &Error{Kind: ErrMalformed, Name: s, Detail: fmt.Sprintf(format, args...)}
	}
	in := strings.TrimSpace(s)
	switch {
	case in == "":
		return bad("the domain is empty")
	case in == ".":
		return bad("\".\" is the DNS root, not a mail domain")
	case strings.Contains(in, "@"):
		at := in[strings.LastIndex(in, "@")+1:]
		return bad("%q is an e-mail address; give only its domain, the part after @ (%s)", in, at)
	case strings.HasPrefix(in, "["):
		return bad("%s is an address literal: mail to it goes straight to that IP address, no MX lookup is involved (RFC 5321 §4.1.3)", in)
	}
	// The trailing dot goes first: "0.0.0.0." is the address 0.0.0.0 too.
	trimmed := strings.TrimSuffix(in, ".")
	if _, err := netip.ParseAddr(trimmed); err == nil {
		return bad("%s is an IP address, not a domain: MX records are looked up by domain name", in)
	}
	in = trimmed
	if strings.Contains(in, "..") || strings.HasPrefix(in, ".") || strings.HasSuffix(in, ".") {
		return bad("%q has an empty label (two dots in a row, or a dot at the start)", s)
	}
	if isASCII(in) {
		// Check plain names first: the IDNA library's messages are vague.
		if err := checkHostname(strings.ToLower(in)); err != "" {
			return bad("%q is not a valid domain name: %s", in, err)
		}
	}
	ascii, err := idna.Lookup.ToASCII(in)
	if err != nil {
		return bad("%q is not a valid domain name: %s", in, idnaReason(err))
	}
	ascii = strings.ToLower(ascii)
	if err := checkHostname(ascii); err != "" {
		return bad("%q is not a valid domain name: %s", in, err)
	}
	if tld := ascii[strings.LastIndex(ascii, ".")+1:]; allDigits(tld) {
		return bad("%q ends in the all-numeric label %q: no top-level domain is numeric (RFC 3696 §2), so this is an address written oddly, not a domain", in, tld)
	}
	uni, err := idna.Lookup.ToUnicode(ascii)
	if err != nil {
		return bad("%q is not a valid domain name: %s", in, idnaReason(err))
	}
	return Name{Input: s, ASCII: ascii, Unicode: uni}, nil
}

// idnaReason turns an IDNA error into words for a student; the library's own
// text names only the label.
func idnaReason(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "disallowed rune"):
		return "it contains a character that is not allowed in domain names (only letters, digits and hyphens; no spaces, underscores or punctuation)"
	case strings.Contains(msg, "bidi") || strings.Contains(msg, "Bidi"):
		return "it mixes right-to-left and left-to-right scripts in a way IDNA forbids (RFC 5893)"
	case strings.Contains(strings.ToLower(msg), "xn--") || strings.Contains(msg, "punycode"):
		return "an xn-- label is not valid Punycode"
	}
	return "IDNA cannot convert it (" + strings.TrimPrefix(msg, "idna: ") + "): a label breaks the IDNA rules, such as an xn-- label that is not valid Punycode or a hyphen at the start or end of a label"
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// checkHostname applies the letter-digit-hyphen rule (RFC 1123 §2.1,
// RFC 5321 §4.1.2) and the DNS length limits to an A-label name, returning
// what is wrong or "".
func checkHostname(ascii string) string {
	if len(ascii) > maxName {
		return fmt.Sprintf("it is %d characters long; a domain name has at most %d", len(ascii), maxName)
	}
	for _, label := range strings.Split(ascii, ".") {
		if label == "" {
			return "it has an empty label"
		}
		if len(label) > maxLabel {
			return fmt.Sprintf("the label %q is %d characters long; a label has at most %d", label, len(label), maxLabel)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Sprintf("the label %q starts or ends with a hyphen", label)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fmt.Sprintf("the label %q contains %q; only letters, digits and hyphens are allowed", label, string(c))
			}
		}
	}
	return ""
}

// unicodeHost returns the display form of a host name from a DNS record,
// falling back to the name as it is when it is not valid IDNA (a record may
// hold anything).
func unicodeHost(ascii string) string {
	if !strings.Contains(ascii, "xn--") {
		return ascii
	}
	u, err := idna.Lookup.ToUnicode(ascii)
	if err != nil {
		return ascii
	}
	return u
}
