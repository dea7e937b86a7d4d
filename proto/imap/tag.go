package imap

import "fmt"

// Tagger hands out command tags: a001, a002, ... Every command carries a tag
// so that the client can match each tagged completion to its command, even
// with several commands in flight (RFC 3501 §2.2.1). The tag must be unique
// within the session; its form is the client's choice.
type Tagger struct {
	// Prefix starts every tag; "a" when empty.
	Prefix string
	n      int
}

// Next returns the next tag.
func (t *Tagger) Next() string {
	t.n++
	p := t.Prefix
	if p == "" {
		p = "a"
	}
	return fmt.Sprintf("%s%03d", p, t.n)
}

// Count returns how many tags were handed out.
func (t *Tagger) Count() int { return t.n }
