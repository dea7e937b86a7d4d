package explore

import (
	"slices"
	"strings"
	"testing"
)

func TestREPLCompletion(t *testing.T) {
	r := &REPL{}
	p := NewSMTP()
	r.SetCompleter(p.Completions)
	got, n := r.Do([]rune("EH"), 2)
	if n != 2 || !slices.ContainsFunc(got, func(s []rune) bool { return string(s) == "LO" }) {
		t.Errorf("Do(EH) = %q, %d; want the rest of EHLO", got, n)
	}
	// Readline only appends, so the completion keeps the case typed: a
	// student who typed "ma" must not end up with "maIL".
	for _, tc := range []struct{ typed, want string }{
		{"eh", "lo"}, {"Eh", "LO"}, {"ma", "il"}, {"MA", "IL"}, {"mail f", "rom:<"}, {`\he`, "lp"},
	} {
		got, n := complete(append(p.Completions(), `\help`), tc.typed)
		if n != len(tc.typed) || !slices.ContainsFunc(got, func(s []rune) bool { return string(s) == tc.want }) {
			t.Errorf("complete(%q) = %q, %d; want %q among them", tc.typed, got, n, tc.want)
		}
		for _, s := range got {
			if tc.typed == strings.ToLower(tc.typed) && string(s) != strings.ToLower(string(s)) {
				t.Errorf("complete(%q) offers %q: mixed case", tc.typed, string(s))
			}
		}
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

// TestHelpWords: \help lists the commands in alphabetical order, each
// once, with both argument forms (MAIL FROM:< and RCPT TO:<).
func TestHelpWords(t *testing.T) {
	got := helpWords(NewSMTP().Completions())
	if !slices.IsSortedFunc(got, func(a, b string) int { return strings.Compare(strings.ToUpper(a), strings.ToUpper(b)) }) {
		t.Errorf("helpWords = %v: not sorted", got)
	}
	for _, w := range []string{"MAIL FROM:<", "RCPT TO:<", "EHLO", "QUIT"} {
		if !slices.Contains(got, w) {
			t.Errorf("helpWords = %v: no %q", got, w)
		}
	}
}
