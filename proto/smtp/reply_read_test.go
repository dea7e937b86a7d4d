package smtp

import "fmt"

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
