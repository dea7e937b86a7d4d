package explore

import (
	"slices"
	"testing"
)

func TestREPLCompletion(t *testing.T) {
	r := &REPL{}
	p := NewSMTP()
	r.SetCompleter(p.Completions)
	got, n := r.Do([]rune("eh"), 2)
	if n != 2 || !slices.ContainsFunc(got, func(s []rune) bool { return string(s) == "LO" }) {
		t.Errorf("Do(eh) = %q, %d; want the rest of EHLO", got, n)
	}
	if got, _ := r.Do([]rune("zz"), 2); len(got) != 0 {
		t.Errorf("Do(zz) = %q, want nothing", got)
	}
	// Commands valid in the state come first: before EHLO, not MAIL.
	words := p.Completions()
	if slices.Index(words, "EHLO") > slices.Index(words, "MAIL") {
		t.Errorf("Completions() = %v: EHLO should come before MAIL in the connected state", words)
	}
}
