package cmd

import (
	"os"
	"path"
	"strings"
)

// selfCommand is how the user can run mailx again from their shell, for the
// "next:" lines that suggest a command. A binary built by `go run` lives in a
// temporary go-build directory that is gone when it exits, so suggesting
// "mailx ..." there would name a command the user does not have; they get
// `go run ./cmd/mailx ...` instead, which works from the directory they ran it in.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "mailx"
	}
	return commandFor(exe)
}

// commandFor decides selfCommand's answer from the executable's path.
func commandFor(exe string) string {
	// Backslashes are made slashes by hand: filepath only knows the
	// separator of the system it was built for.
	dir := path.Dir(strings.ReplaceAll(exe, `\`, "/"))
	if strings.Contains(dir, "/go-build") && strings.HasSuffix(dir, "/exe") {
		return "go run ./cmd/mailx"
	}
	return "mailx"
}
