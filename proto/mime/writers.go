package mime

import "io"

// lfWriter turns the CRLF line ends Compose writes into LF, for a message
// stored as a file. Compose only ever writes CR as part of CRLF (text is
// normalised, anything else is base64), so every CR it sees is dropped when
// an LF follows.
type lfWriter struct {
	w  io.Writer
	cr bool // the last byte written was a CR, held back
}

func (l *lfWriter) Write(p []byte) (int, error) {
	out := make([]byte, 0, len(p)+1)
	for _, c := range p {
		if l.cr {
			l.cr = false
			if c != '\n' {
				out = append(out, '\r')
			}
		}
		if c == '\r' {
			l.cr = true
			continue
		}
		out = append(out, c)
	}
	if _, err := l.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (l *lfWriter) flush() error {
	if l.cr {
		l.cr = false
		_, err := l.w.Write([]byte{'\r'})
		return err
	}
	return nil
}

// crlfWriter writes text with each bare LF turned into CRLF; a CRLF
// already there (a text attachment in a CRLF message) stays as it is.
type crlfWriter struct {
	w      io.Writer
	lastCR bool
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	start := 0
	for i, b := range p {
		if b == '\n' && !(i > 0 && p[i-1] == '\r' || i == 0 && c.lastCR) {
			if _, err := c.w.Write(p[start:i]); err != nil {
				return 0, err
			}
			if _, err := io.WriteString(c.w, "\r\n"); err != nil {
				return 0, err
			}
			start = i + 1
		}
	}
	if _, err := c.w.Write(p[start:]); err != nil {
		return 0, err
	}
	if len(p) > 0 {
		c.lastCR = p[len(p)-1] == '\r'
	}
	return len(p), nil
}

// lineWrapper breaks base64 output into lines of width characters
// (76, RFC 2045 §6.8) ending in CRLF.
type lineWrapper struct {
	w     io.Writer
	width int
	col   int
}

func (l *lineWrapper) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(l.width-l.col, len(p))
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
		l.col += k
		p = p[k:]
		if l.col == l.width {
			if _, err := io.WriteString(l.w, "\r\n"); err != nil {
				return 0, err
			}
			l.col = 0
		}
	}
	return n, nil
}

// end finishes the last line.
func (l *lineWrapper) end() error {
	if l.col == 0 {
		return nil
	}
	l.col = 0
	_, err := io.WriteString(l.w, "\r\n")
	return err
}
