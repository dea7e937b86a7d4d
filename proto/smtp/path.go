package smtp

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Path is a reverse-path (MAIL FROM) or forward-path (RCPT TO) as RFC 5321
// §4.1.2 defines it:
//
//	Path   = "<" [ A-d-l ":" ] Mailbox ">"
//	A-d-l  = At-domain *( "," At-domain )     ; a source route, obsolete
//	Mailbox = Local-part "@" ( Domain / address-literal )
type Path struct {
	// Null is the empty reverse-path "<>" used by bounces.
	Null bool
	// Postmaster is RCPT TO:<Postmaster> without a domain, which every
	// server must accept (RFC 5321 §4.1.1.3).
	Postmaster bool
	// Local is the local part exactly as written, quotes included:
	// `"a@b"` stays `"a@b"`, so it can never be mistaken for a mailbox
	// in domain b.
	Local string
	// Domain is the domain or address literal as written ("[127.0.0.1]").
	Domain string
	// Route holds the domains of an obsolete source route
	// "<@a,@b:user@c>". RFC 5321 §3.6.1 and Appendix C say to ignore it and
	// deliver to the mailbox; it is kept only to be shown.
	Route []string
}

// Addr returns the mailbox as "local@domain", "" for the null path and
// "Postmaster" for the bare postmaster.
func (p Path) Addr() string {
	switch {
	case p.Null:
		return ""
	case p.Postmaster && p.Domain == "":
		return "Postmaster"
	}
	return p.Local + "@" + p.Domain
}

// ASCIIDomain returns the domain in its ASCII (A-label) form, lower case,
// so that "bücher.test" and "xn--bcher-kva.test" compare equal.
func (p Path) ASCIIDomain() string {
	if strings.HasPrefix(p.Domain, "[") {
		return strings.ToLower(p.Domain)
	}
	a, err := idna.Lookup.ToASCII(p.Domain)
	if err != nil {
		return strings.ToLower(p.Domain)
	}
	return strings.ToLower(a)
}

// UTF8 reports whether the address holds non-ASCII characters, which need
// SMTPUTF8 (RFC 6531).
func (p Path) UTF8() bool { return !isASCII(p.Local) || !isASCII(p.Domain) }

// Param is one ESMTP parameter such as SIZE=1000 or SMTPUTF8.
type Param struct {
	Key   string // upper case
	Value string
	// HasValue separates "KEY=" (empty value) from "KEY".
	HasValue bool
}

// MailArgs is a parsed MAIL FROM command.
type MailArgs struct {
	From     Path
	Size     int64  // SIZE=, 0 when absent (RFC 1870)
	Body     string // "7BIT" or "8BITMIME"; "" when absent (RFC 6152)
	SMTPUTF8 bool   // RFC 6531
	Auth     string // AUTH= parameter (RFC 4954 §5), recorded, never trusted
	Params   []Param
}

// RcptArgs is a parsed RCPT TO command.
type RcptArgs struct {
	To     Path
	Params []Param
}

// PathError says what is wrong with a MAIL or RCPT argument, in words a
// student can act on. Param is set when the fault is an unsupported
// parameter (reply 555 rather than 501).
type PathError struct {
	Why   string
	Param string
}

func (e *PathError) Error() string { return e.Why }

func pathErr(format string, args ...any) error {
	return &PathError{Why: fmt.Sprintf(format, args...)}
}

// Limits on sizes from RFC 5321 §4.5.3.1.
const (
	MaxLocalPart = 64  // §4.5.3.1.1
	MaxDomain    = 255 // §4.5.3.1.2
	MaxPath      = 256 // §4.5.3.1.3, including the angle brackets
)

// ParseMail parses the argument of MAIL, the text after "MAIL ":
// "FROM:<alice@mailx.test> SIZE=1200 BODY=8BITMIME". A space after the colon
// is tolerated because many clients send one.
func ParseMail(arg string) (MailArgs, error) {
	path, rest, err := splitPathArg(arg, "FROM:", "MAIL FROM:<address>")
	if err != nil {
		return MailArgs{}, err
	}
	var m MailArgs
	if path == "<>" {
		m.From = Path{Null: true}
	} else {
		m.From, err = ParsePath(path)
		if err != nil {
			return MailArgs{}, err
		}
	}
	m.Params, err = ParseParams(rest)
	if err != nil {
		return MailArgs{}, err
	}
	for _, p := range m.Params {
		switch p.Key {
		case "SIZE":
			n, err := strconv.ParseInt(p.Value, 10, 64)
			if !p.HasValue || err != nil || n < 0 || len(p.Value) > 20 {
				return MailArgs{}, pathErr("SIZE=%q is not a number of octets", p.Value)
			}
			m.Size = n
		case "BODY":
			switch v := strings.ToUpper(p.Value); v {
			case "7BIT", "8BITMIME":
				m.Body = v
			default:
				return MailArgs{}, &PathError{Why: fmt.Sprintf("BODY=%s is not supported: use 7BIT or 8BITMIME", p.Value), Param: "BODY=" + p.Value}
			}
		case "SMTPUTF8":
			if p.HasValue {
				return MailArgs{}, pathErr("SMTPUTF8 takes no value")
			}
			m.SMTPUTF8 = true
		case "AUTH":
			m.Auth = p.Value
		default:
			return MailArgs{}, &PathError{Why: "parameter " + p.Key + " is not supported", Param: p.Key}
		}
	}
	if m.From.UTF8() && !m.SMTPUTF8 {
		return MailArgs{}, &PathError{Why: "a non-ASCII address needs the SMTPUTF8 parameter", Param: "SMTPUTF8"}
	}
	return m, nil
}

// ParseRcpt parses the argument of RCPT, the text after "RCPT ":
// "TO:<bob@mailx.test>". "<Postmaster>" without a domain is accepted.
func ParseRcpt(arg string) (RcptArgs, error) {
	path, rest, err := splitPathArg(arg, "TO:", "RCPT TO:<address>")
	if err != nil {
		return RcptArgs{}, err
	}
	var r RcptArgs
	if strings.EqualFold(path, "<postmaster>") {
		r.To = Path{Postmaster: true, Local: path[1 : len(path)-1]}
	} else {
		if path == "<>" {
			return RcptArgs{}, pathErr("the empty address <> can only be a sender, never a recipient")
		}
		r.To, err = ParsePath(path)
		if err != nil {
			return RcptArgs{}, err
		}
		if strings.EqualFold(r.To.Local, "postmaster") {
			r.To.Postmaster = true
		}
	}
	r.Params, err = ParseParams(rest)
	if err != nil {
		return RcptArgs{}, err
	}
	for _, p := range r.Params {
		return RcptArgs{}, &PathError{Why: "parameter " + p.Key + " is not supported", Param: p.Key}
	}
	return r, nil
}

// splitPathArg checks the "FROM:" or "TO:" keyword and cuts the "<...>"
// path from the parameters that follow it.
func splitPathArg(arg, keyword, syntax string) (path, rest string, err error) {
	if len(arg) < len(keyword) || !strings.EqualFold(arg[:len(keyword)], keyword) {
		return "", "", pathErr("expected %s", syntax)
	}
	s := strings.TrimLeft(arg[len(keyword):], " ")
	if !strings.HasPrefix(s, "<") {
		return "", "", pathErr("expected %s (the angle brackets are required)", syntax)
	}
	end, err := pathEnd(s)
	if err != nil {
		return "", "", err
	}
	path, rest = s[:end+1], s[end+1:]
	if rest != "" && rest[0] != ' ' {
		return "", "", pathErr("expected a space between %s and the parameters", path)
	}
	if len(path) > MaxPath {
		return "", "", pathErr("the address is longer than %d octets", MaxPath)
	}
	return path, strings.TrimSpace(rest), nil
}

// pathEnd finds the ">" closing the path that starts at s[0], skipping quoted
// strings, where ">" is an ordinary character.
func pathEnd(s string) (int, error) {
	quoted := false
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == '>':
			return i, nil
		}
	}
	if quoted {
		return 0, pathErr("a quoted local part is not closed with \"")
	}
	return 0, pathErr("the address is missing its closing >")
}

// ParsePath parses "<[@route,...:]local@domain>". It accepts UTF-8 in the
// local part and domain (RFC 6531); callers check SMTPUTF8 was declared.
func ParsePath(s string) (Path, error) {
	if len(s) < 2 || s[0] != '<' || s[len(s)-1] != '>' {
		return Path{}, pathErr("an address must be written in angle brackets: <user@domain>")
	}
	inner := s[1 : len(s)-1]
	var p Path
	if strings.HasPrefix(inner, "@") {
		colon := strings.IndexByte(inner, ':')
		if colon < 0 {
			return Path{}, pathErr("a source route (@host:) must end with a colon before the mailbox")
		}
		for _, hop := range strings.Split(inner[:colon], ",") {
			if !strings.HasPrefix(hop, "@") || checkDomain(hop[1:]) != nil {
				return Path{}, pathErr("source route %q is not @domain[,@domain]", inner[:colon])
			}
			p.Route = append(p.Route, hop[1:])
		}
		inner = inner[colon+1:]
	}
	local, domain, err := splitMailbox(inner)
	if err != nil {
		return Path{}, err
	}
	p.Local, p.Domain = local, domain
	return p, nil
}

// splitMailbox splits at the "@" that follows the local part; in a quoted
// local part "@" is an ordinary character.
func splitMailbox(s string) (local, domain string, err error) {
	if s == "" {
		return "", "", pathErr("the address is empty; only MAIL FROM may use <>")
	}
	var i int
	if s[0] == '"' {
		i = 1
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' {
				if i+1 >= len(s) || s[i+1] < 32 || s[i+1] > 126 {
					return "", "", pathErr("a backslash in a quoted local part must escape a printable character")
				}
				i++
				continue
			}
			if c == '"' {
				break
			}
			if c < 32 || c == 127 {
				return "", "", pathErr("control characters are not allowed in an address")
			}
		}
		if i >= len(s) {
			return "", "", pathErr("a quoted local part is not closed with \"")
		}
		i++
		if i >= len(s) || s[i] != '@' {
			return "", "", pathErr("expected @domain after the quoted local part")
		}
	} else {
		i = strings.IndexByte(s, '@')
		if i < 0 {
			return "", "", pathErr("%q has no @domain", s)
		}
		if err := checkDotString(s[:i]); err != nil {
			return "", "", err
		}
	}
	local, domain = s[:i], s[i+1:]
	if len(local) > MaxLocalPart {
		return "", "", pathErr("the local part is longer than %d octets", MaxLocalPart)
	}
	if strings.HasPrefix(domain, "[") {
		return local, domain, checkAddressLiteral(domain)
	}
	return local, domain, checkDomain(domain)
}

// atext characters besides letters and digits (RFC 5322 §3.2.3).
const atextSpecials = "!#$%&'*+-/=?^_`{|}~"

func checkDotString(s string) error {
	if s == "" {
		return pathErr("the local part before @ is empty")
	}
	for _, atom := range strings.Split(s, ".") {
		if atom == "" {
			return pathErr("local part %q has an empty part between dots; quote it if it really is so", s)
		}
		for _, r := range atom {
			if r >= 0x80 {
				if r == utf8.RuneError {
					return pathErr("the local part is not valid UTF-8")
				}
				continue
			}
			if !isLetDig(byte(r)) && !strings.ContainsRune(atextSpecials, r) {
				return pathErr("character %q is not allowed in an unquoted local part", r)
			}
		}
	}
	return nil
}

func isLetDig(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func checkDomain(d string) error {
	if d == "" {
		return pathErr("the domain after @ is empty")
	}
	if len(d) > MaxDomain {
		return pathErr("the domain is longer than %d octets", MaxDomain)
	}
	if !isASCII(d) {
		if !utf8.ValidString(d) {
			return pathErr("the domain is not valid UTF-8")
		}
		a, err := idna.Lookup.ToASCII(d)
		if err != nil {
			return pathErr("%q is not a valid internationalized domain name", d)
		}
		d = a
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return pathErr("domain %q has an empty or over-long label", d)
		}
		if !isLetDig(label[0]) || !isLetDig(label[len(label)-1]) {
			return pathErr("domain label %q must start and end with a letter or digit", label)
		}
		for i := 0; i < len(label); i++ {
			if !isLetDig(label[i]) && label[i] != '-' {
				return pathErr("character %q is not allowed in domain %q", label[i], d)
			}
		}
	}
	return nil
}

func checkAddressLiteral(s string) error {
	if !strings.HasSuffix(s, "]") {
		return pathErr("address literal %q is missing its ]", s)
	}
	in := s[1 : len(s)-1]
	if v6, ok := strings.CutPrefix(in, "IPv6:"); ok {
		if a, err := netip.ParseAddr(v6); err == nil && a.Is6() {
			return nil
		}
		return pathErr("%q is not an IPv6 address literal", s)
	}
	if a, err := netip.ParseAddr(in); err == nil && a.Is4() {
		return nil
	}
	return pathErr("%q is not an address literal such as [192.0.2.1] or [IPv6:2001:db8::1]", s)
}

// ParseParams parses ESMTP parameters "KEY[=VALUE] ..." (RFC 5321 §4.1.2).
func ParseParams(s string) ([]Param, error) {
	var out []Param
	for _, f := range strings.Fields(s) {
		k, v, has := strings.Cut(f, "=")
		if k == "" || !isLetDig(k[0]) {
			return nil, pathErr("parameter %q must start with a letter or digit", f)
		}
		for i := 0; i < len(k); i++ {
			if !isLetDig(k[i]) && k[i] != '-' {
				return nil, pathErr("parameter name %q may hold only letters, digits and -", k)
			}
		}
		for _, r := range v {
			if r < 33 || r == '=' || r == 127 {
				return nil, pathErr("parameter %s has a value with a forbidden character", k)
			}
		}
		if has && v == "" {
			return nil, pathErr("parameter %s= has an empty value", k)
		}
		out = append(out, Param{Key: strings.ToUpper(k), Value: v, HasValue: has})
	}
	return out, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
