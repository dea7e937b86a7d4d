package lessons

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Builtin returns the lessons embedded in the binary, in teaching order. The
// files are validated by the tests, so an error here is a bug in mailx.
func Builtin() ([]*Lesson, error) {
	names, err := fs.Glob(builtinFS, "builtin/*.yaml")
	if err != nil {
		return nil, err
	}
	var out []*Lesson
	for _, n := range names {
		data, err := fs.ReadFile(builtinFS, n)
		if err != nil {
			return nil, err
		}
		l, err := Parse(path.Base(n), data)
		if err != nil {
			return nil, fmt.Errorf("built-in lesson %s: %w", n, err)
		}
		out = append(out, l)
	}
	sort.SliceStable(out, func(i, j int) bool { return orderKey(out[i]) < orderKey(out[j]) })
	return out, nil
}

func orderKey(l *Lesson) int {
	if l.Order == 0 {
		return 1 << 30
	}
	return l.Order
}

// Find returns the built-in lesson with the given name (or its order number
// as text, so "mailx lessons start 2" works).
func Find(name string) (*Lesson, error) {
	all, err := Builtin()
	if err != nil {
		return nil, err
	}
	for _, l := range all {
		if l.Name == name || fmt.Sprint(l.Order) == name {
			return l, nil
		}
	}
	var names []string
	for _, l := range all {
		names = append(names, l.Name)
	}
	return nil, fmt.Errorf("no lesson named %q; the lessons are: %s", name, strings.Join(names, ", "))
}
