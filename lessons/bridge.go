package lessons

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// BridgeCheck is the `bridge` lab condition: web mail's bridge (server/web)
// answered an HTTP request of a user and, to answer it, sent these IMAP or
// SMTP commands. It reads the bridge's own record, the live transcripts in
// DATA/web/transcripts of the domain, so the page clicked in a browser and
// the same request made with curl count alike.
type BridgeCheck struct {
	Domain  string   // whose web mail
	User    string   // the web session's user ("alice" or alice@domain)
	Request []string // "METHOD PATH", one of them; a PATH ending in / covers every path under it; none: any request
	Sent    []string // commands the bridge sent for that request, each the first words of a C: line (IMAP tag ignored)
}

// BridgeRequest is one HTTP request the bridge answered, with the client
// lines it sent to the mail server while answering it.
type BridgeRequest struct {
	Method, Path string // Path without the query
	Status       int
	Sent         []string // the C: lines
	// Before are the lines just before Sent, those of the request that
	// ended before this one. A browser runs requests side by side (the
	// page's /events stream ends when the next page starts loading), so
	// lines sent for this request may come before another one's end.
	Before []string
}

// BridgeSession is one web (or API) session's transcript.
type BridgeSession struct {
	File     string
	User     string // the user name the session logged in as
	Requests []BridgeRequest
}

// ReadBridge reads every web session transcript of domain's bridge.
func ReadBridge(lab LabView, domain string) ([]BridgeSession, error) {
	dir := filepath.Join(lab.DataDir(domain), "web", "transcripts")
	names, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []BridgeSession
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			continue // removed meanwhile
		}
		s := ParseBridgeTranscript(f)
		f.Close()
		s.File = name
		out = append(out, s)
	}
	return out, nil
}

// ParseBridgeTranscript reads a web session transcript. The bridge writes
// "# http GET /f/INBOX -> 200 (3.1 ms)" when a request ends, after the lines
// exchanged for it; lines after the last such event belong to a request
// still running and are not counted yet.
func ParseBridgeTranscript(r io.Reader) BridgeSession {
	var s BridgeSession
	var pending, prev []string
	const (
		noData = iota
		awaitGoAhead
		inText
	)
	data := noData
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "C: "):
			c := strings.TrimPrefix(line, "C: ")
			switch {
			case data == inText:
				// The message text after SMTP DATA is not commands, even
				// a line "RCPT TO:<carol@...>" in it.
				if c == "." {
					data = noData
				}
			case strings.EqualFold(strings.TrimSpace(c), "DATA"):
				data = awaitGoAhead
				pending = append(pending, c)
			default:
				data = noData // DATA was refused: the client went on with commands
				pending = append(pending, c)
			}
		case strings.HasPrefix(line, "S: 354") && data == awaitGoAhead:
			data = inText
		case strings.HasPrefix(line, "# connect: "):
			// "web session for alice from 127.0.0.1:5000" or "api session for alice from …"
			f := strings.Fields(strings.TrimPrefix(line, "# connect: "))
			for i := 0; i+1 < len(f); i++ {
				if f[i] == "for" && i >= 1 && f[i-1] == "session" {
					s.User = strings.ToLower(f[i+1])
					break
				}
			}
		case strings.HasPrefix(line, "# http "):
			f := strings.Fields(strings.TrimPrefix(line, "# http "))
			if len(f) < 4 || f[2] != "->" {
				continue
			}
			req := BridgeRequest{Method: strings.ToUpper(f[0]), Sent: pending, Before: prev}
			prev = pending
			req.Path, _, _ = strings.Cut(f[1], "?")
			fmt.Sscanf(f[3], "%d", &req.Status)
			s.Requests = append(s.Requests, req)
			pending = nil
		}
	}
	return s
}

// commandWords splits a client line into upper-case words, splitting at
// colons too ("MAIL FROM:<a@b>" → MAIL FROM <A@B>).
func commandWords(s string) []string {
	return strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool { return unicode.IsSpace(r) || r == ':' })
}

// sentMatches reports whether the client line starts with the words of
// want, with or without an IMAP tag in front.
func sentMatches(line, want string) bool {
	w, l := commandWords(want), commandWords(line)
	if len(w) == 0 {
		return false
	}
	prefix := func(l []string) bool {
		if len(l) < len(w) {
			return false
		}
		for i := range w {
			if w[i] != l[i] {
				return false
			}
		}
		return true
	}
	if len(l) > 1 && imapTag(l[0]) {
		l = l[1:]
	}
	return prefix(l)
}

// imapTag reports whether a word is a tag such as the bridge's T12 (or
// a001): letters then digits, which no command name is.
func imapTag(w string) bool {
	i := 0
	for i < len(w) && w[i] >= 'A' && w[i] <= 'Z' {
		i++
	}
	if i == 0 || i == len(w) {
		return false
	}
	for _, c := range w[i:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (b *BridgeCheck) requestMatches(r BridgeRequest) bool {
	if len(b.Request) == 0 {
		return true
	}
	for _, want := range b.Request {
		method, path, _ := strings.Cut(strings.TrimSpace(want), " ")
		path = strings.TrimSpace(path)
		if !strings.EqualFold(method, r.Method) {
			continue
		}
		if path == r.Path || strings.HasSuffix(path, "/") && strings.HasPrefix(r.Path, path) {
			return true
		}
	}
	return false
}

func (b *BridgeCheck) userMatches(user string) bool {
	want := strings.ToLower(b.User)
	if want == "" {
		return true
	}
	if name, domain, ok := strings.Cut(want, "@"); ok && strings.EqualFold(domain, b.Domain) {
		want = name
	}
	name, _, _ := strings.Cut(user, "@")
	return name == want || user == want
}

func (b *BridgeCheck) check(lab LabView) Verdict {
	sessions, err := ReadBridge(lab, b.Domain)
	if err != nil {
		return fail("bridge", "cannot read the web mail bridge's transcripts: %v", err)
	}
	who := b.User
	if who == "" {
		who = "anyone"
	}
	asked := "any request"
	if len(b.Request) > 0 {
		asked = strings.Join(b.Request, " or ")
	}
	mine, requests, refused := 0, 0, 0
	best, bestMissing := -1, ""
	for _, s := range sessions {
		if !b.userMatches(s.User) {
			continue
		}
		mine++
		for _, r := range s.Requests {
			if !b.requestMatches(r) {
				continue
			}
			if r.Status >= 400 {
				refused++
				continue
			}
			requests++
			found, missing := 0, ""
			for _, want := range b.Sent {
				ok := false
				for _, line := range r.Sent {
					ok = ok || sentMatches(line, want)
				}
				for _, line := range r.Before {
					ok = ok || sentMatches(line, want)
				}
				if ok {
					found++
				} else if missing == "" {
					missing = want
				}
			}
			if missing == "" {
				return pass()
			}
			if found > best {
				best, bestMissing = found, missing
			}
		}
	}
	switch {
	case mine == 0:
		return fail("bridge", "%s's web mail has no session of %s yet: log in at the web page first", b.Domain, who)
	case requests == 0 && refused > 0:
		return fail("bridge", "the bridge refused %s (an error status): look at the page's message", asked)
	case requests == 0:
		return fail("bridge", "the bridge has not answered %s for %s yet", asked, who)
	}
	return fail("bridge", "the bridge answered %s but sent no %s for it", asked, bestMissing)
}

// answerWords splits a student's answer into upper-case words.
func answerWords(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		out[w] = true
	}
	return out
}

// matchAnswer checks a typed answer against the step's alternatives: an
// alternative holds when every one of its words is in the answer, in any
// case and order, whatever else surrounds them.
func (e Expect) matchAnswer(answer string) Verdict {
	words := answerWords(answer)
	if len(words) == 0 {
		return fail("answer", "type your answer in words")
	}
	for _, alt := range e.Answer {
		ok := true
		for w := range answerWords(alt) {
			ok = ok && words[w]
		}
		if ok {
			return pass()
		}
	}
	return fail("answer", "%q is not the answer to this question", strings.TrimSpace(answer))
}

// answerHas reports whether an answer contains every word of one of ws.
func answerHas(answer string, ws []string) bool {
	words := answerWords(answer)
	for _, alt := range ws {
		aw := answerWords(alt)
		ok := len(aw) > 0
		for w := range aw {
			ok = ok && words[w]
		}
		if ok {
			return true
		}
	}
	return false
}
