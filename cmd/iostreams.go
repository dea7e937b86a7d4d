package cmd

import (
	"bytes"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"

	"github.com/mailx-edu/mailx/explore/render"
)

// IOStreams are the standard streams a command uses, injected so that tests can
// capture them. Nothing under cmd writes to os.Stdout directly.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// StdinTTY and StdoutTTY say whether the streams are terminals: prompts,
	// readline and colour depend on them.
	StdinTTY  bool
	StdoutTTY bool

	// Env reads an environment variable (os.Getenv in production). Tests set it
	// to pin NO_COLOR, MAILX_HOME and friends without touching the process.
	Env func(string) string

	// NoColor is set by --no-color.
	NoColor bool
}

// SystemIO returns the process's real streams.
func SystemIO() *IOStreams {
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		StdinTTY:  isTerminal(os.Stdin),
		StdoutTTY: isTerminal(os.Stdout),
		Env:       os.Getenv,
	}
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// TestIO returns streams backed by buffers: stdin reads in, and the returned
// buffers collect stdout and stderr. Neither stream is a terminal.
func TestIO(in string) (ios *IOStreams, out, errOut *bytes.Buffer) {
	out, errOut = &bytes.Buffer{}, &bytes.Buffer{}
	env := map[string]string{}
	return &IOStreams{
		In:     strings.NewReader(in),
		Out:    out,
		ErrOut: errOut,
		Env:    func(k string) string { return env[k] },
	}, out, errOut
}

// ColorEnabled reports whether output may be coloured: stdout is a terminal,
// NO_COLOR is unset (https://no-color.org) and --no-color was not given.
func (ios *IOStreams) ColorEnabled() bool {
	if ios.NoColor || !ios.StdoutTTY {
		return false
	}
	if _, set := ios.lookupEnv("NO_COLOR"); set {
		return false
	}
	return ios.getenv("TERM") != "dumb"
}

func (ios *IOStreams) getenv(k string) string {
	if ios.Env == nil {
		return ""
	}
	return ios.Env(k)
}

// lookupEnv treats NO_COLOR as set when present with any value; Env cannot
// tell empty from unset, so an empty NO_COLOR counts as unset as the spec asks.
func (ios *IOStreams) lookupEnv(k string) (string, bool) {
	v := ios.getenv(k)
	return v, v != ""
}

// Renderer returns the output layer for stdout, coloured when ColorEnabled.
func (ios *IOStreams) Renderer(jsonMode bool) *render.Renderer {
	return render.New(ios.Out, render.Options{Color: ios.ColorEnabled(), JSON: jsonMode})
}

// RendererWith returns the output layer for stdout with explicit options; the
// colour choice is still the terminal's.
func (ios *IOStreams) RendererWith(o render.Options) *render.Renderer {
	o.Color = ios.ColorEnabled() && !o.JSON
	return render.New(ios.Out, o)
}
