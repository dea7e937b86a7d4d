package testkit

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// update is the one -update flag of every test binary that imports testkit:
//
//	go test ./cmd/ -update
//
// rewrites the golden files the tests compare with. Review the diff like code.
// A test package that imports testkit must not define its own -update flag
// (the flag package would panic on the second definition).
var update = flag.Bool("update", false, "rewrite golden files in testdata/ instead of comparing with them")

// Golden compares got with the file at path (slash-separated, relative to the
// test's package directory, normally "testdata/NAME.golden") and fails the
// test where they differ, showing both and the first differing line. With
// -update it writes got to path instead, creating the directories.
func Golden(t TB, path string, got []byte) {
	t.Helper()
	file := filepath.FromSlash(path)
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatalf("testkit: %v", err)
			return
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatalf("testkit: %v", err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it, then review it)", err)
		return
	}
	if bytes.Equal(got, want) {
		return
	}
	t.Errorf("output differs from %s at %s (go test -update rewrites it; review the diff)\n--- got:\n%s\n--- want:\n%s",
		path, firstDiff(got, want), got, want)
}

// firstDiff names the first line where got and want differ, so a long golden
// file does not hide a one-character change.
func firstDiff(got, want []byte) string {
	g := strings.Split(string(got), "\n")
	w := strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl || i >= len(g) || i >= len(w) {
			return fmt.Sprintf("line %d: got %q, want %q", i+1, gl, wl)
		}
	}
	return "the end"
}
