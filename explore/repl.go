package explore

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/chzyer/readline"
)

// REPL is the interactive front end: a readline prompt showing the session
// state (smtp:mail>), history kept per protocol, and tab completion of the
// commands valid now.
type REPL struct {
	rl    *readline.Instance
	words func() []string
}

// REPLOptions configure the interactive front end.
type REPLOptions struct {
	// HistoryFile keeps the lines typed across sessions, one file per
	// protocol (cmd passes <state dir>/history/smtp). Empty: no history.
	HistoryFile string
	Stdin       io.ReadCloser
	Stdout      io.Writer
	Stderr      io.Writer
}

// NewREPL starts readline on the terminal.
func NewREPL(o REPLOptions) (*REPL, error) {
	if o.HistoryFile != "" {
		// History is a convenience: a read-only home must not stop the session.
		if err := os.MkdirAll(filepath.Dir(o.HistoryFile), 0o700); err != nil {
			o.HistoryFile = ""
		}
	}
	r := &REPL{}
	rl, err := readline.NewEx(&readline.Config{
		Prompt:            "> ",
		HistoryFile:       o.HistoryFile,
		HistorySearchFold: true,
		AutoComplete:      r,
		InterruptPrompt:   "^C",
		EOFPrompt:         "",
		Stdin:             o.Stdin,
		Stdout:            o.Stdout,
		Stderr:            o.Stderr,
	})
	if err != nil {
		return nil, err
	}
	r.rl = rl
	return r, nil
}

// Stdout is where output must go while the prompt is shown, so that lines
// arriving during IMAP IDLE do not garble the line being typed.
func (r *REPL) Stdout() io.Writer { return r.rl.Stdout() }

// Close restores the terminal.
func (r *REPL) Close() error { return r.rl.Close() }

// ReadLine implements Input.
func (r *REPL) ReadLine(prompt string) (string, error) {
	r.rl.SetPrompt(prompt)
	line, err := r.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", ErrInterrupt
	}
	return line, err
}

// Interactive implements Input.
func (r *REPL) Interactive() bool { return true }

// SetCompleter implements Completer.
func (r *REPL) SetCompleter(words func() []string) { r.words = words }

// Do implements readline.AutoCompleter: it completes the line typed so far
// against the words valid now, case-insensitively (SMTP verbs are).
func (r *REPL) Do(line []rune, pos int) ([][]rune, int) {
	if r.words == nil {
		return nil, 0
	}
	typed := string(line[:pos])
	var out [][]rune
	for _, w := range r.words() {
		if len(w) >= len(typed) && strings.EqualFold(w[:len(typed)], typed) && w != typed {
			out = append(out, []rune(w[len(typed):]))
		}
	}
	return out, len([]rune(typed))
}
