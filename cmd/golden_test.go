package cmd

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update rewrites golden files instead of comparing with them:
// go test ./cmd -update. It is defined once here for every test in package
// cmd; review the resulting diff like code.
var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// checkGolden compares got with testdata/<name> (name may contain slashes,
// such as "mx/multi.golden"), or rewrites the file with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", filepath.FromSlash(name))
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("output differs from %s (go test ./cmd -update rewrites it; review the diff)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}
