package explore

import (
	"bufio"
	"io"
	"strings"
)

// ScriptInput reads the student's lines from a script or a pipe, one at a
// time: the engine asks for the next line only after the previous response
// arrived, which is what makes `printf 'EHLO me\n...' | mailx smtp talk`
// reliable where `nc` would race ahead of the server.
type ScriptInput struct {
	sc *bufio.Scanner
	// Line is the number of the last line read, for error messages.
	Line int
}

// NewScriptInput reads lines from r. Lines may end in LF or CRLF; the line
// ending is never sent as part of the line. Lines longer than 1 MiB end the
// input with an error.
func NewScriptInput(r io.Reader) *ScriptInput {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	return &ScriptInput{sc: sc}
}

// ReadLine implements Input; the prompt is not shown.
func (in *ScriptInput) ReadLine(string) (string, error) {
	if !in.sc.Scan() {
		if err := in.sc.Err(); err != nil {
			return "", err
		}
		return "", io.EOF
	}
	in.Line++
	return strings.TrimSuffix(in.sc.Text(), "\r"), nil
}

// Interactive implements Input.
func (in *ScriptInput) Interactive() bool { return false }

// LinesInput is an Input over lines held in memory, for lessons and tests.
type LinesInput struct {
	Lines []string
	next  int
}

// ReadLine implements Input.
func (in *LinesInput) ReadLine(string) (string, error) {
	if in.next >= len(in.Lines) {
		return "", io.EOF
	}
	in.next++
	return in.Lines[in.next-1], nil
}

// Interactive implements Input.
func (in *LinesInput) Interactive() bool { return false }
