package imap

import "strings"

// Address is one entry of an IMAP ENVELOPE address list (RFC 3501 §7.4.2,
// RFC 9051 §7.5.2). A group is written as a start marker, with the group's
// name in Mailbox and an empty Host, then its members, then an end marker
// with every field empty: "Cc: team: a@x, b@y;" is
//
//	((NIL NIL "team" NIL) (NIL NIL "a" "x") (NIL NIL "b" "y") (NIL NIL NIL NIL))
//
// Names are kept as written (encoded-words are not decoded), as Dovecot
// sends them, so the client decides how to show them.
type Address struct {
	Name    string
	Route   string // obsolete source route ("@a,@b"), rarely seen
	Mailbox string
	Host    string
	// Group marks a group's start (with Mailbox its name) or end (all
	// fields empty).
	Group bool
}

// IsGroupEnd reports whether a is the end marker of a group.
func (a Address) IsGroupEnd() bool { return a.Group && a.Mailbox == "" }

// String renders an address for matching and display: "Name <box@host>",
// "box@host", or for a group start "name:".
func (a Address) String() string {
	switch {
	case a.IsGroupEnd():
		return ";"
	case a.Group:
		return a.Mailbox + ":"
	}
	addr := a.Mailbox
	if a.Host != "" {
		addr += "@" + a.Host
	}
	if a.Name != "" {
		return a.Name + " <" + addr + ">"
	}
	return addr
}

// maxAddresses bounds what one header field can expand to.
const maxAddresses = 1000

type addrToken struct {
	kind byte // 'w' word (atom, quoted string or domain literal), or the special itself
	text string
}

// tokenizeAddresses splits an address list into words and specials,
// dropping comments but keeping the text of the last one (a display name
// written as "box@host (Name)"), in one pass: linear time for any input.
func tokenizeAddresses(s string) (toks []addrToken, comments []int, commentText []string) {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '(':
			depth, j := 0, i
			var b strings.Builder
			for ; j < len(s); j++ {
				ch := s[j]
				if ch == '\\' && j+1 < len(s) {
					j++
					b.WriteByte(s[j])
					continue
				}
				if ch == '(' {
					depth++
					if depth == 1 {
						continue
					}
				}
				if ch == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
				b.WriteByte(ch)
			}
			comments = append(comments, len(toks))
			commentText = append(commentText, strings.TrimSpace(b.String()))
			i = j + 1
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				if s[j] != '\r' && s[j] != '\n' {
					b.WriteByte(s[j])
				}
			}
			toks = append(toks, addrToken{'q', b.String()})
			i = j + 1
		case c == '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				j = len(s) - i - 1
			}
			toks = append(toks, addrToken{'w', s[i : i+j+1]})
			i += j + 1
		case strings.IndexByte("<>:;,@.", c) >= 0:
			toks = append(toks, addrToken{c, string(c)})
			i++
		default:
			j := i
			for j < len(s) && strings.IndexByte("<>:;,@.()\"[ \t\r\n", s[j]) < 0 {
				j++
			}
			if j == i { // a stray ')' or ']'
				j++
			}
			toks = append(toks, addrToken{'w', s[i:j]})
			i = j
		}
	}
	return toks, comments, commentText
}

// ParseAddressList reads an address header field's value (From, To, Cc,
// ...) as RFC 5322 §3.4 defines it, with groups, comments, quoted local
// parts, obsolete routes and the usual mistakes (a missing ">", a missing
// ";"), and returns it in ENVELOPE form. It never fails: what cannot be
// read is left out. It runs in linear time and returns at most 1,000
// entries.
func ParseAddressList(value string) []Address {
	toks, cpos, ctext := tokenizeAddresses(value)
	p := &addrParser{toks: toks, cpos: cpos, ctext: ctext}
	var out []Address
	inGroup := false
	for p.i < len(p.toks) && len(out) < maxAddresses {
		switch p.peek() {
		case ',':
			p.i++
			continue
		case ';':
			p.i++
			if inGroup {
				out = append(out, Address{Group: true})
				inGroup = false
			}
			continue
		}
		start := p.i
		phrase := p.phrase()
		switch p.peek() {
		case ':':
			p.i++
			if phrase == "" {
				continue // a group needs a name; read on as plain addresses
			}
			if inGroup {
				out = append(out, Address{Group: true})
			}
			out = append(out, Address{Group: true, Mailbox: phrase})
			inGroup = true
			continue
		case '<':
			p.i++
			a := p.angle()
			a.Name = phrase
			if a.Mailbox != "" || a.Host != "" {
				out = append(out, a)
			}
			continue
		}
		// An addr-spec: local-part "@" domain, with a comment as the name.
		p.i = start
		a := p.addrSpec(",;")
		if a.Mailbox != "" || a.Host != "" {
			a.Name = p.commentIn(start, p.i)
			out = append(out, a)
		}
		if p.i == start {
			p.i++ // a token that starts nothing: skip it
		}
	}
	if inGroup {
		out = append(out, Address{Group: true})
	}
	return out
}

type addrParser struct {
	toks  []addrToken
	i     int
	cpos  []int
	ctext []string
}

func (p *addrParser) peek() byte {
	if p.i >= len(p.toks) {
		return 0
	}
	return p.toks[p.i].kind
}

// phrase reads words (a display name or group name) up to a special,
// joining them with single spaces; dots between words are kept (obsolete
// phrase "J. Smith").
func (p *addrParser) phrase() string {
	var words []string
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		if t.kind == 'w' || t.kind == 'q' {
			words = append(words, t.text)
		} else if t.kind == '.' && len(words) > 0 {
			words[len(words)-1] += "."
		} else {
			break
		}
		p.i++
	}
	return strings.Join(words, " ")
}

// angle reads "[route:] local@domain >" after "<".
func (p *addrParser) angle() Address {
	var a Address
	if p.peek() == '@' {
		// Obsolete route: "@a,@b:"
		start := p.i
		for p.i < len(p.toks) && p.peek() != ':' && p.peek() != '>' {
			p.i++
		}
		if p.peek() == ':' {
			var b strings.Builder
			for _, t := range p.toks[start:p.i] {
				b.WriteString(t.text)
			}
			a.Route = b.String()
			p.i++
		} else {
			p.i = start
		}
	}
	spec := p.addrSpec(">,;")
	a.Mailbox, a.Host = spec.Mailbox, spec.Host
	for p.i < len(p.toks) && p.peek() != '>' && p.peek() != ',' && p.peek() != ';' {
		p.i++
	}
	if p.peek() == '>' {
		p.i++
	}
	return a
}

// addrSpec reads local-part ["@" domain] until one of the stop specials.
func (p *addrParser) addrSpec(stop string) Address {
	var a Address
	var local, domain strings.Builder
	cur := &local
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		if strings.IndexByte(stop, t.kind) >= 0 || t.kind == '<' || t.kind == ':' {
			break
		}
		if t.kind == '@' {
			if cur == &domain {
				break
			}
			cur = &domain
			p.i++
			continue
		}
		cur.WriteString(t.text)
		p.i++
	}
	a.Mailbox, a.Host = local.String(), domain.String()
	return a
}

// commentIn returns the text of the last comment inside tokens [from, to).
func (p *addrParser) commentIn(from, to int) string {
	name := ""
	for k, pos := range p.cpos {
		if pos > from && pos <= to && p.ctext[k] != "" {
			name = p.ctext[k]
		}
	}
	return name
}
