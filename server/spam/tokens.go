package spam

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
)

// Limits of tokenizing: a message is untrusted input, and a filter that
// read every octet of a 10 MB attachment would let a sender make the server
// spend what it likes.
const (
	maxTokenText = 256 << 10 // octets of decoded text read per message
	maxTokens    = 3000      // distinct tokens kept per message
	maxParts     = 20        // MIME parts looked at
	minTokenLen  = 3
	maxTokenLen  = 24
)

var (
	htmlTag = regexp.MustCompile(`(?s)<[^>]{0,1000}>`)
	urlHost = regexp.MustCompile(`(?i)https?://([a-z0-9.-]{1,253})`)
)

// Tokens returns the distinct tokens of a message: lower-cased words of the
// Subject (prefixed "subject:") and of the text parts, the From domain
// ("from:crepes.test") and the host names of links ("url:example.test"),
// as bogofilter and SpamAssassin's tokenizers do in spirit.
func Tokens(msg []byte) []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if len(out) < maxTokens && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		for _, w := range words(string(msg[:min(len(msg), maxTokenText)])) {
			add(w)
		}
		return out
	}
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		subj = m.Header.Get("Subject")
	}
	for _, w := range words(subj) {
		add("subject:" + w)
	}
	if a, err := mail.ParseAddress(m.Header.Get("From")); err == nil {
		if at := strings.LastIndexByte(a.Address, '@'); at >= 0 {
			add("from:" + strings.ToLower(a.Address[at+1:]))
		}
	}
	var text strings.Builder
	collect(&text, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body, 0, new(int))
	body := text.String()
	for _, h := range urlHost.FindAllStringSubmatch(body, 50) {
		add("url:" + strings.ToLower(strings.TrimSuffix(h[1], ".")))
	}
	for _, w := range words(body) {
		add(w)
	}
	return out
}

// collect appends the decoded text of a part (recursing into multiparts)
// to text, up to maxTokenText.
func collect(text *strings.Builder, ctype, cte string, r io.Reader, depth int, parts *int) {
	if *parts >= maxParts || depth > 5 || text.Len() >= maxTokenText {
		return
	}
	*parts++
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil || ctype == "" {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			collect(text, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1, parts)
		}
	}
	if !strings.HasPrefix(mt, "text/") {
		return
	}
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &stripNL{r: r})
	}
	b, _ := io.ReadAll(io.LimitReader(r, int64(maxTokenText-text.Len())))
	s := string(b)
	if mt == "text/html" {
		s = htmlTag.ReplaceAllString(s, " ")
	}
	text.WriteString(s)
	text.WriteString("\n")
}

// stripNL drops line breaks, which the base64 decoder does not skip.
type stripNL struct{ r io.Reader }

func (s *stripNL) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}

// words splits text into lower-case tokens of letters, digits and a few
// joiners ($ and ! count: "$$$" and "free!!!" are telling).
func words(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '$' || r == '!' || r == '\'' || r == '-')
	}) {
		f = strings.Trim(strings.ToLower(f), "'-")
		if n := len(f); n >= minTokenLen && n <= maxTokenLen && !allDigits(f) {
			out = append(out, f)
		}
	}
	return out
}

func allDigits(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}
