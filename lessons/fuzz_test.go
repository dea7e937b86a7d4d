package lessons

import (
	"errors"
	"io/fs"
	"testing"
)

// FuzzParse feeds arbitrary files to the lesson parser: lesson files come
// from teachers and the Internet, so the parser must never panic, and it must
// either accept a lesson that the runner can use or list problems with line
// numbers inside the file.
func FuzzParse(f *testing.F) {
	names, _ := fs.Glob(builtinFS, "builtin/*.yaml")
	for _, n := range names {
		data, _ := fs.ReadFile(builtinFS, n)
		f.Add(data)
	}
	f.Add([]byte("name: x\ntitle: y\nsteps:\n  - title: z\n    read: true\n"))
	f.Add([]byte("name: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := Parse("fuzz.yaml", data)
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error is not a list of problems: %v", err)
			}
			return
		}
		if l.Name == "" || l.Title == "" || len(l.Steps) == 0 {
			t.Fatalf("accepted a lesson without name, title or steps: %+v", l)
		}
		for _, s := range l.Steps {
			if s.Action == 0 {
				t.Fatalf("accepted a step without an action: %+v", s)
			}
		}
	})
}
