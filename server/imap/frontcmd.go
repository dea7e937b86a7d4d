package imap

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	pimap "github.com/mailx-edu/mailx/proto/imap"
	"github.com/mailx-edu/mailx/server/maildir"
)

// The front end answers a few commands itself, before or instead of
// go-imap: ID (RFC 2971), which go-imap does not know; mailbox names that
// are not valid modified UTF-7, which go-imap would answer with
// NO [SERVERBUG]; and a synchronising literal too large for anything but
// APPEND, which must be refused before the client sends it. So that its
// answer comes in order with go-imap's answers to commands pipelined
// before it, the front end passes go-imap "tag NOOP" instead and, when
// go-imap completes that NOOP, writes its own answer in place of go-imap's
// tagged line (see substitutes).

// maxCommandLiteral is the largest literal go-imap takes outside APPEND.
const maxCommandLiteral = 4096

// substitute is the answer the front end gives in place of go-imap's
// completion of tag.
type substitute struct {
	tag   string
	lines []string
}

// substitutes queues the answers in command order.
type substitutes struct {
	mu   sync.Mutex
	list []substitute
}

func (q *substitutes) push(tag string, lines ...string) {
	q.mu.Lock()
	q.list = append(q.list, substitute{tag, lines})
	q.mu.Unlock()
}

// take returns the lines to send instead of a tagged line of go-imap's, if
// it completes a command the front end answers itself.
func (q *substitutes) take(line string) ([]string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	// Only the completion of the stand-in NOOP: a client may reuse a tag,
	// and an earlier command's completion with the same tag is its own.
	if len(q.list) == 0 || !strings.HasPrefix(line, q.list[0].tag+" OK NOOP completed") {
		return nil, false
	}
	s := q.list[0]
	q.list = q.list[1:]
	return s.lines, true
}

// frontCommand looks at the first line of a command (text, without CRLF)
// and decides whether the front end answers it. It returns the line to pass
// to go-imap instead (with CRLF), or nil to pass the line unchanged.
func (c *conn) frontCommand(tag, text string) []byte {
	if tag == "" || tag == eofTag {
		return nil
	}
	_, rest, _ := strings.Cut(text, " ")
	verb, args, _ := strings.Cut(rest, " ")
	verb = strings.ToUpper(verb)
	if verb == "UID" {
		sub, a, _ := strings.Cut(args, " ")
		verb, args = "UID "+strings.ToUpper(sub), a
	}
	answer := func(lines ...string) []byte {
		c.subs.push(tag, lines...)
		return []byte(tag + " NOOP\r\n")
	}
	n, nonSync := pimap.TrailingLiteral(text)
	if n > maxCommandLiteral && !nonSync && verb != "APPEND" {
		return answer(tag + " BAD [TOOBIG] a literal outside APPEND may have at most 4096 octets; send the name or search text in quotes, or shorter")
	}
	if typo := c.forgivenTypo(tag, verb); typo != "" {
		return answer(typo)
	}
	switch verb {
	case "ID":
		return answer(c.id(tag, args)...)
	case "ENABLE":
		if strings.Contains(strings.ToUpper(args), "UTF8=ACCEPT") {
			c.utf8.Store(true)
		}
		return nil
	}
	if n >= 0 {
		return nil // the names may continue after the literal: go-imap checks them
	}
	var which []int // argument positions that are mailbox names
	list := false
	switch verb {
	case "SELECT", "EXAMINE", "CREATE", "DELETE", "SUBSCRIBE", "UNSUBSCRIBE", "STATUS", "APPEND":
		which = []int{0}
	case "RENAME":
		which = []int{0, 1}
	case "COPY", "MOVE", "UID COPY", "UID MOVE":
		which = []int{1}
	case "LIST", "LSUB":
		which, list = []int{0, 1}, true
	default:
		return nil
	}
	toks, ok := splitArgs(args)
	if !ok {
		return nil // go-imap answers the syntax error
	}
	if list && len(toks) > 0 && strings.HasPrefix(toks[0], "(") {
		return nil // LIST-EXTENDED selection options: left to go-imap
	}
	for _, i := range which {
		if i >= len(toks) || strings.HasPrefix(toks[i], "(") {
			continue
		}
		name := unquote(toks[i])
		if c.validName(name) {
			continue
		}
		if list {
			// No mailbox can match a pattern that is not valid modified
			// UTF-7 (Dovecot answers the same way): an empty list.
			return answer(tag + " OK " + verb + " completed (nothing matches a name that is not valid modified UTF-7)")
		}
		return answer(fmt.Sprintf("%s NO [CANNOT] %s is not a valid mailbox name: control characters are not allowed, and a name outside ASCII must be sent in modified UTF-7 (RFC 3501 §5.1.3), as Entw&APw-rfe for Entwürfe", tag, quoteForText(name)))
	}
	return nil
}

// validName reports whether a mailbox name from the wire is well formed:
// modified UTF-7 (or UTF-8 after ENABLE UTF8=ACCEPT) without control
// characters.
func (c *conn) validName(name string) bool {
	if strings.EqualFold(name, maildir.Inbox) {
		return true
	}
	dec := name
	if c.utf8.Load() {
		if !utf8.ValidString(name) {
			return false
		}
	} else {
		var err error
		if dec, err = pimap.DecodeUTF7(name); err != nil {
			return false
		}
	}
	for _, r := range dec {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return false
		}
	}
	return true
}

// quoteForText shows a name in a reply's human-readable text safely.
func quoteForText(s string) string {
	q := fmt.Sprintf("%q", s)
	if len(q) > 80 {
		q = q[:77] + "..."
	}
	return q
}

// serverID is what the front end answers to ID.
var serverID = []string{"name", "mailx", "vendor", "mailx-edu", "support-url", "https://github.com/mailx-edu/mailx"}

// id answers ID (RFC 2971): the client's parameters are checked for syntax
// and noted in the trace; the server names itself.
func (c *conn) id(tag, args string) []string {
	args = strings.TrimSpace(args)
	if !strings.EqualFold(args, "NIL") {
		toks, ok := splitArgs(args)
		if !ok || len(toks) != 1 || !strings.HasPrefix(toks[0], "(") {
			return []string{tag + ` BAD ID takes NIL or a list of "field" "value" pairs, as in: ID ("name" "mutt" "version" "2.2")`}
		}
		inner, ok := splitArgs(toks[0][1 : len(toks[0])-1])
		if !ok || len(inner)%2 != 0 || len(inner) > 60 {
			return []string{tag + ` BAD ID takes at most 30 "field" "value" pairs`}
		}
		var shown []string
		for i := 0; i < len(inner); i += 2 {
			if !isString(inner[i]) || !isString(inner[i+1]) && !strings.EqualFold(inner[i+1], "NIL") {
				return []string{tag + ` BAD ID fields are strings, and values strings or NIL`}
			}
			if len(shown) < 8 {
				shown = append(shown, clipText(unquote(inner[i]), 30)+"="+clipText(unquote(inner[i+1]), 60))
			}
		}
		if len(shown) > 0 {
			c.trace.Meta("client id: %s", strings.Join(shown, ", "))
		}
	}
	var b strings.Builder
	b.WriteString("* ID (")
	for i, s := range serverID {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(`"` + s + `"`)
	}
	b.WriteString(")")
	return []string{b.String(), tag + " OK ID completed"}
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func isString(tok string) bool { return strings.HasPrefix(tok, `"`) }

// splitArgs splits command arguments into tokens: atoms, quoted strings
// (with their quotes) and parenthesised lists (whole, with their
// parentheses). It reports false for unbalanced quotes or parentheses.
func splitArgs(s string) ([]string, bool) {
	var toks []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ':
			i++
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return nil, false
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		case c == '(':
			depth, j := 0, i
			for ; j < len(s); j++ {
				switch s[j] {
				case '"':
					j++
					for ; j < len(s) && s[j] != '"'; j++ {
						if s[j] == '\\' {
							j++
						}
					}
				case '(':
					depth++
				case ')':
					depth--
				}
				if depth == 0 {
					break
				}
			}
			if j >= len(s) {
				return nil, false
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '(' && s[j] != '"' {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, true
}

// unquote returns a quoted string's content (backslash escapes removed), or
// an atom as it is.
func unquote(tok string) string {
	if len(tok) < 2 || tok[0] != '"' {
		return tok
	}
	var b strings.Builder
	for i := 1; i < len(tok)-1; i++ {
		if tok[i] == '\\' && i+1 < len(tok)-1 {
			i++
		}
		b.WriteByte(tok[i])
	}
	return b.String()
}

// inject queues untagged lines to go out before go-imap's next line: the
// FLAGS response announcing a keyword a STORE or APPEND just created must
// come before the FETCH that shows it (RFC 9051 §7.3.5), and go-imap only
// sends mailbox updates after the command.
func (c *conn) inject(lines ...string) {
	c.injMu.Lock()
	c.injected = append(c.injected, lines...)
	c.injMu.Unlock()
}

func (c *conn) takeInjected() []string {
	c.injMu.Lock()
	defer c.injMu.Unlock()
	l := c.injected
	c.injected = nil
	return l
}

// routeMarker carries an address's obsolete source route (RFC 5322 §4.4,
// "<@route:user@domain>") through go-imap, whose ENVELOPE writer always
// sends NIL in that place: the session puts "<marker><route>:<name>" in
// the name, and the front end turns `"<marker>@route:Name" NIL` back into
// `"Name" "@route"` on its way to the client. The marker is random per
// process, so no message can forge it.
var routeMarker = func() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "mailx-route-" + hex.EncodeToString(b) + ":"
}()

// routeName returns the name field to give go-imap for an address with a
// route; routes or names that would not travel as a plain quoted string are
// dropped (the route) or kept as they are (the name).
func routeName(route, name string) string {
	if route == "" || len(route) > 200 || len(name) > 200 {
		return name
	}
	for _, s := range []string{route, name} {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
				return name
			}
		}
	}
	if strings.ContainsRune(route, ':') {
		return name
	}
	return routeMarker + route + ":" + name
}

// restoreRoutes undoes routeName in a response line.
func restoreRoutes(line string) string {
	for {
		i := strings.Index(line, `"`+routeMarker)
		if i < 0 {
			return line
		}
		rest := line[i+1+len(routeMarker):]
		colon := strings.IndexByte(rest, ':')
		end := strings.IndexByte(rest, '"')
		if colon < 0 || end < colon || !strings.HasPrefix(rest[end:], `" NIL `) {
			return line
		}
		route, name := rest[:colon], rest[colon+1:end]
		nameTok := "NIL"
		if name != "" {
			nameTok = `"` + name + `"`
		}
		line = line[:i] + nameTok + ` "` + route + `" ` + rest[end+len(`" NIL `):]
	}
}

// forgivenTypos is how many unknown commands before login the front end
// answers with BAD and lets the session go on. go-imap ends the session at
// the first one, to stop cross-protocol attacks (a web page making a
// browser POST to the IMAP port); a student typing by hand makes typos
// too, and losing the connection for one teaches nothing. A line that looks
// like HTTP or any other protocol still goes to go-imap, which says BYE.
const forgivenTypos = 2

// forgivenTypo returns the BAD answer for an unknown command before login
// while the session may still make typos, or "".
func (c *conn) forgivenTypo(tag, verb string) string {
	if verb == "LOGIN" || verb == "AUTHENTICATE" {
		c.loginTag.Store(tag)
	}
	if t, _ := c.loginTag.Load().(string); c.authed.Load() || t != "" || c.typos >= forgivenTypos {
		return ""
	}
	base := strings.TrimPrefix(verb, "UID ")
	if _, known := pimap.Commands[base]; known || base == "ID" {
		return ""
	}
	// Another protocol's first line: "GET / HTTP/1.1", "POST /x", "Host:",
	// "EHLO name", "USER alice". Left to go-imap, which hangs up.
	if strings.ContainsAny(tag+verb, "/:") || isOtherProtocol(tag) {
		return ""
	}
	c.typos++
	left := forgivenTypos - c.typos
	what := "the verb"
	if verb == "" {
		what, verb = "a command after the tag", "(none)"
	}
	return fmt.Sprintf("%s BAD unknown command %s: each line is a tag, then %s (e.g. a1 LOGIN alice hungry); %d more unknown command(s) before login end the session",
		tag, quoteForText(verb), what, left)
}

// isOtherProtocol reports first words of other text protocols that a
// confused client (or a cross-protocol attack) sends to an IMAP port.
func isOtherProtocol(word string) bool {
	switch strings.ToUpper(word) {
	case "GET", "POST", "PUT", "HEAD", "OPTIONS", "CONNECT", "DELETE", "PATCH", "HELO", "EHLO", "USER", "PASS":
		return true
	}
	return false
}
