package explore

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unicode"

	"github.com/chzyer/readline"
)

// REPL is the interactive front end: a readline prompt showing the session
// state (smtp:mail>), history kept per protocol, and tab completion of the
// commands valid now.
type REPL struct {
	rl    *readline.Instance
	words func() []string
	out   io.Writer // the terminal itself, for output while no prompt is shown

	mu        sync.Mutex // guards prompting against the writers
	prompting bool       // inside ReadLine: the prompt is on the screen
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
	r := &REPL{out: o.Stdout}
	if r.out == nil {
		r.out = os.Stdout
	}
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

// Stdout is where every line of the session's output goes. While the prompt
// is on the screen (ReadLine is waiting, as in IMAP IDLE) it goes through
// readline, which clears the prompt line, writes the output and draws the
// prompt again below it. At any other time it goes straight to the
// terminal: readline's writer would otherwise redraw a stale prompt after
// each line, and the server's reply would land on that prompt line as if
// the student had typed it.
func (r *REPL) Stdout() io.Writer { return replWriter{r} }

type replWriter struct{ r *REPL }

func (w replWriter) Write(b []byte) (int, error) {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	if w.r.prompting {
		return w.r.rl.Stdout().Write(b)
	}
	return w.r.out.Write(b)
}

// Close restores the terminal.
func (r *REPL) Close() error { return r.rl.Close() }

// ReadLine implements Input.
func (r *REPL) ReadLine(prompt string) (string, error) {
	r.mu.Lock()
	r.rl.SetPrompt(prompt)
	r.prompting = true
	r.mu.Unlock()
	line, err := r.rl.Readline()
	r.mu.Lock()
	r.prompting = false
	r.mu.Unlock()
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
// against the words valid now, case-insensitively (SMTP verbs are). Readline
// can only append to what was typed, so the completion follows the case the
// student chose: "ma" completes to "mail", "MA" and "Ma" to "MAIL".
func (r *REPL) Do(line []rune, pos int) ([][]rune, int) {
	if r.words == nil {
		return nil, 0
	}
	return complete(r.words(), string(line[:pos]))
}

// complete returns the suffixes that complete typed to one of words, in the
// case typed, and the length of typed in runes.
func complete(words []string, typed string) ([][]rune, int) {
	lower := typed != "" && !strings.ContainsFunc(typed, unicode.IsUpper) && strings.ContainsFunc(typed, unicode.IsLetter)
	seen := map[string]bool{}
	var out [][]rune
	for _, w := range words {
		if len(w) < len(typed) || !strings.EqualFold(w[:len(typed)], typed) || w == typed {
			continue
		}
		if lower {
			w = strings.ToLower(w)
		}
		suffix := w[len(typed):]
		if suffix == "" || seen[suffix] {
			continue
		}
		seen[suffix] = true
		out = append(out, []rune(suffix))
	}
	return out, len([]rune(typed))
}
