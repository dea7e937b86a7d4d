package statetable

import (
	"slices"
	"strings"
)

// Row is one command of a table: anything that can say in which states it is
// allowed. Each protocol's Command type implements it with its In field.
type Row[S comparable] interface {
	States() []S
}

// Table maps each upper-case verb to its row. A protocol declares its table
// as a map literal:
//
//	var Commands = statetable.Table[State, Command]{
//		"RETR": {Verb: "RETR", In: []State{Transaction}, ...},
//	}
//
// and asks it Lookup and Allowed; ranging over it and indexing it
// work as on any map.
type Table[S comparable, C Row[S]] map[string]C

// Lookup returns the row for verb, case-insensitively.
func (t Table[S, C]) Lookup(verb string) (C, bool) {
	c, ok := t[strings.ToUpper(verb)]
	return c, ok
}

// Allowed reports whether verb may be sent in state s. Unknown verbs are not
// allowed anywhere.
func (t Table[S, C]) Allowed(verb string, s S) bool {
	c, ok := t.Lookup(verb)
	return ok && slices.Contains(c.States(), s)
}

// Verb splits a command line into its upper-case verb and the rest, the way
// both server and explorer read it: "mail from:<a@b>" gives "MAIL",
// "from:<a@b>". Leading spaces are skipped and the rest is trimmed; the
// rest keeps its case (a POP3 password, an SMTP local part).
func Verb(line string) (verb, rest string) {
	line = strings.TrimLeft(line, " ")
	v, r, _ := strings.Cut(line, " ")
	return strings.ToUpper(v), strings.TrimSpace(r)
}

// Name returns names[s], the short name of state s used in the explorer's
// prompt and in traces, or "unknown" for a value outside the list.
func Name[S ~int](names []string, s S) string {
	if s < 0 || int(s) >= len(names) || names[s] == "" {
		return "unknown"
	}
	return names[s]
}

// Verbs returns every verb of the table, those allowed in state s first and
// then the others, each group in alphabetical order: the order in which the
// explorer offers completions.
func (t Table[S, C]) Verbs(s S) []string {
	var now, later []string
	for v, c := range t {
		if slices.Contains(c.States(), s) {
			now = append(now, v)
		} else {
			later = append(later, v)
		}
	}
	slices.Sort(now)
	slices.Sort(later)
	return append(now, later...)
}
