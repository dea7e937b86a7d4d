package smtp

import (
	"fmt"
	"slices"
	"testing"
)

// readReply reads a complete reply given as raw lines without CRLF, the way
// every reader in mailx does: one ReplyBuilder.Add per line until the last
// line. It refuses lines after the last one and a reply without its last
// line.
func readReply(lines []string) (Reply, error) {
	var b ReplyBuilder
	for i, l := range lines {
		done, err := b.Add(l)
		if err != nil {
			return Reply{}, fmt.Errorf("line %d: %w", i+1, err)
		}
		if done && i != len(lines)-1 {
			return Reply{}, fmt.Errorf("line %d: reply ended before its last line", i+1)
		}
		if !done && i == len(lines)-1 {
			return Reply{}, fmt.Errorf("line %d: multi-line reply has no final line (code followed by a space)", i+1)
		}
	}
	if b.Len() == 0 {
		return Reply{}, ErrShortLine
	}
	return b.Reply(), nil
}

// TestReplyBuilderEnhancedOnLaterLines: an enhanced code is read from a
// later line only when the reply's first line carries one (RFC 2034 §4), so
// that every reply read goes back on the wire as it came.
func TestReplyBuilderEnhancedOnLaterLines(t *testing.T) {
	for _, tc := range []struct {
		lines    []string
		enhanced string
		text     []string
	}{
		{[]string{"421-", "421 4.0.0 4.0.0"}, "", []string{"", "4.0.0 4.0.0"}},
		{[]string{"250-mx.test", "250 2.0.0 ok"}, "", []string{"mx.test", "2.0.0 ok"}},
		{[]string{"550-5.1.1 no such user", "550 5.1.1 try again"}, "5.1.1", []string{"no such user", "try again"}},
		{[]string{"550-5.1.1 first", "550 second"}, "5.1.1", []string{"first", "second"}},
	} {
		r, err := readReply(tc.lines)
		if err != nil || r.Enhanced != tc.enhanced || !slices.Equal(r.Lines, tc.text) {
			t.Errorf("read %q = %+v, %v; want enhanced %q, lines %q", tc.lines, r, err, tc.enhanced, tc.text)
			continue
		}
		back, err := readReply(r.Wire())
		if err != nil || back.Enhanced != r.Enhanced || !slices.Equal(back.Lines, r.Lines) {
			t.Errorf("Wire of %q = %q reads back as %+v, %v", tc.lines, r.Wire(), back, err)
		}
	}
}
