package statetable

import "testing"

type state int

const (
	start state = iota
	open
	done
)

type command struct {
	Verb string
	In   []state
}

func (c command) States() []state { return c.In }

var table = Table[state, command]{
	"HELLO": {Verb: "HELLO", In: []state{start}},
	"SEND":  {Verb: "SEND", In: []state{open}},
	"BYE":   {Verb: "BYE", In: []state{start, open}},
}

func TestLookup(t *testing.T) {
	for _, verb := range []string{"send", "SEND", "Send"} {
		if c, ok := table.Lookup(verb); !ok || c.Verb != "SEND" {
			t.Errorf("Lookup(%q) = %+v, %v; want SEND", verb, c, ok)
		}
	}
	if c, ok := table.Lookup("NOPE"); ok {
		t.Errorf("Lookup(NOPE) = %+v, true; want not found", c)
	}
}

func TestAllowed(t *testing.T) {
	for _, tc := range []struct {
		verb string
		s    state
		want bool
	}{
		{"hello", start, true},
		{"HELLO", open, false},
		{"send", open, true},
		{"SEND", start, false},
		{"bye", open, true},
		{"BYE", done, false},
		{"NOPE", start, false},
		{"", start, false},
	} {
		if got := table.Allowed(tc.verb, tc.s); got != tc.want {
			t.Errorf("Allowed(%q, %d) = %v; want %v", tc.verb, tc.s, got, tc.want)
		}
	}
}

func TestVerb(t *testing.T) {
	for _, tc := range []struct{ line, verb, rest string }{
		{"mail from:<a@b>", "MAIL", "from:<a@b>"},
		{"  retr 1 ", "RETR", "1"},
		{"PASS  my secret  ", "PASS", "my secret"},
		{"QUIT", "QUIT", ""},
		{"", "", ""},
	} {
		if v, r := Verb(tc.line); v != tc.verb || r != tc.rest {
			t.Errorf("Verb(%q) = %q, %q; want %q, %q", tc.line, v, r, tc.verb, tc.rest)
		}
	}
}

func TestName(t *testing.T) {
	names := [...]string{start: "start", open: "open"}
	for s, want := range map[state]string{start: "start", open: "open", done: "unknown", -1: "unknown"} {
		if got := Name(names[:], s); got != want {
			t.Errorf("Name(%d) = %q; want %q", s, got, want)
		}
	}
}

func TestVerbs(t *testing.T) {
	for s, want := range map[state][]string{
		start: {"BYE", "HELLO", "SEND"},
		open:  {"BYE", "SEND", "HELLO"},
		done:  {"BYE", "HELLO", "SEND"},
	} {
		got := table.Verbs(s)
		if len(got) != len(want) {
			t.Fatalf("Verbs(%d) = %q; want %q", s, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("Verbs(%d) = %q; want %q", s, got, want)
				break
			}
		}
	}
}
