package explore

import (
	"bytes"
	"embed"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/mailx-edu/mailx/proto/transcript"
)

// examples are recorded sessions shipped in the binary for
// `mailx smtp replay --example NAME`: the two textbook dialogues and one
// modern ESMTP session.
//
//go:embed examples/*.txt
var examples embed.FS

// Example is one built-in recorded session.
type Example struct {
	Name       string // e.g. "hill"
	Title      string // from the "# title:" header line
	Transcript *transcript.Transcript
}

// Examples returns the built-in recorded sessions, sorted by name.
func Examples() []Example {
	entries, _ := examples.ReadDir("examples")
	var out []Example
	for _, e := range entries {
		ex, err := loadExample(strings.TrimSuffix(e.Name(), ".txt"))
		if err == nil {
			out = append(out, ex)
		}
	}
	slices.SortFunc(out, func(a, b Example) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// LookupExample returns the built-in session called name.
func LookupExample(name string) (Example, bool) {
	ex, err := loadExample(name)
	return ex, err == nil
}

func loadExample(name string) (Example, error) {
	if strings.ContainsAny(name, `/\.`) {
		return Example{}, fmt.Errorf("no example %q", name)
	}
	b, err := examples.ReadFile(path.Join("examples", name+".txt"))
	if err != nil {
		return Example{}, err
	}
	t, err := transcript.Read(bytes.NewReader(b))
	if err != nil {
		return Example{}, fmt.Errorf("example %s: %w", name, err)
	}
	ex := Example{Name: name, Transcript: t}
	for _, kv := range t.Header.Extra {
		if kv[0] == "title" {
			ex.Title = kv[1]
		}
	}
	return ex, nil
}
