package maildir

import (
	"sort"
	"strings"
)

// Flags is the set of standard Maildir flags a message carries in the info
// part of its file name ("…:2,FS"). Each maps to one IMAP system flag, which
// is how a message read in mutt shows as read in Thunderbird.
type Flags uint8

const (
	// Draft is "D", IMAP \Draft: the message is not finished.
	Draft Flags = 1 << iota
	// Flagged is "F", IMAP \Flagged: marked as important.
	Flagged
	// Passed is "P", IMAP $Forwarded: the message was forwarded.
	Passed
	// Replied is "R", IMAP \Answered.
	Replied
	// Seen is "S", IMAP \Seen: the user has read it.
	Seen
	// Trashed is "T", IMAP \Deleted: marked for removal at the next expunge
	// (IMAP EXPUNGE, or a POP3 session's UPDATE state).
	Trashed
)

// flagLetters lists the letters in the order the Maildir specification
// requires in a file name: ASCII order.
var flagLetters = [...]struct {
	f Flags
	c byte
}{{Draft, 'D'}, {Flagged, 'F'}, {Passed, 'P'}, {Replied, 'R'}, {Seen, 'S'}, {Trashed, 'T'}}

// String returns the flags as Maildir info letters, e.g. "FS".
func (f Flags) String() string {
	var b strings.Builder
	for _, l := range flagLetters {
		if f&l.f != 0 {
			b.WriteByte(l.c)
		}
	}
	return b.String()
}

// ParseInfo reads the letters after "2," in a file name. Letters that are not
// standard flags (Dovecot keeps keywords as lower-case letters) are returned
// in extra, sorted, so a rename that changes flags keeps them.
func ParseInfo(info string) (f Flags, extra string) {
	var ex []byte
	for i := 0; i < len(info); i++ {
		c := info[i]
		known := false
		for _, l := range flagLetters {
			if l.c == c {
				f |= l.f
				known = true
				break
			}
		}
		if !known && c > ' ' && c < 0x7f && c != '/' && c != '\\' && c != ':' && c != ';' {
			ex = append(ex, c)
		}
	}
	sort.Slice(ex, func(i, j int) bool { return ex[i] < ex[j] })
	return f, dedupe(ex)
}

func dedupe(b []byte) string {
	out := b[:0]
	for i, c := range b {
		if i == 0 || c != b[i-1] {
			out = append(out, c)
		}
	}
	return string(out)
}

// infoString joins standard flags and extra letters in ASCII order, as the
// Maildir specification asks.
func infoString(f Flags, extra string) string {
	s := []byte(f.String() + extra)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return string(s)
}
