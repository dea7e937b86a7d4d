package queue

import (
	"bufio"
	"encoding/json"
	"io"
	"strings"
)

// readHeaderBlock reads lines up to the blank line that ends a header
// section (or the end of r) and returns them, CRLF-terminated.
func readHeaderBlock(r io.Reader) (string, error) {
	br := bufio.NewReader(r)
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		if strings.TrimRight(line, "\r\n") == "" && (err == nil || line != "") {
			return b.String(), nil
		}
		b.WriteString(line)
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return b.String(), err
		}
	}
}

// mustState encodes a message's recipients for queue/state; q.mu is held.
func mustState(m *Message) []byte {
	b, _ := json.Marshal(stateRecord{Recipients: m.rcpts})
	return b
}
