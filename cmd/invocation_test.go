package cmd

import "testing"

func TestCommandForGoRun(t *testing.T) {
	for exe, want := range map[string]string{
		"/tmp/go-build1234567/b001/exe/mailx":                           "go run ./cmd/mailx",
		`C:\Users\ana\AppData\Local\Temp\go-build99\b001\exe\mailx.exe`: "go run ./cmd/mailx",
		"/usr/local/bin/mailx":                                          "mailx",
		"/home/ana/go/bin/mailx":                                        "mailx",
		"/tmp/go-build5/b001/mailx.test":                                "mailx",
	} {
		if got := commandFor(exe); got != want {
			t.Errorf("commandFor(%q) = %q, want %q", exe, got, want)
		}
	}
}
