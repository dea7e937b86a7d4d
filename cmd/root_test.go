package cmd

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"version", []string{"version"}, ExitOK, "mailx ", ""},
		{"version json", []string{"version", "--json"}, ExitOK, `"version":`, ""},
		{"unknown command", []string{"frobnicate"}, ExitUsage, "", `unknown command "frobnicate"`},
		{"unknown flag", []string{"version", "--bogus"}, ExitUsage, "", "unknown flag: --bogus"},
		{"extra argument", []string{"version", "extra"}, ExitUsage, "", "too many arguments: extra"},
		{"help", []string{"--help"}, ExitOK, "Examples:", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, out, errOut := TestIO("")
			code := run(context.Background(), tc.args, ios)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tc.code, errOut.String())
			}
			if !strings.Contains(out.String(), tc.stdout) {
				t.Errorf("stdout = %q, want containing %q", out.String(), tc.stdout)
			}
			if !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("stderr = %q, want containing %q", errOut.String(), tc.stderr)
			}
		})
	}
}

func TestUserErrorPrintsHint(t *testing.T) {
	ios, _, errOut := TestIO("")
	root := newRootCmd(ios, new(bool))
	root.AddCommand(&cobra.Command{Use: "fail", RunE: func(*cobra.Command, []string) error {
		return failure("Is a server listening there?", "cannot connect to %s: %w", "127.0.0.1:1", context.DeadlineExceeded)
	}})
	root.SetArgs([]string{"fail"})
	root.SetErr(errOut)
	err := root.Execute()
	var ue *UserError
	if !errors.As(err, &ue) || ue.Code != ExitFailure || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %#v", err)
	}
	// Main's printing of the same error:
	code := run(context.Background(), []string{"version", "--json=maybe"}, ios)
	if code != ExitUsage || !strings.Contains(errOut.String(), "mailx: invalid argument") || !strings.Contains(errOut.String(), "mailx version --help") {
		t.Errorf("code %d, stderr %q", code, errOut.String())
	}
}

func TestColorDecision(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tty     bool
		noColor bool
		env     map[string]string
		want    bool
	}{
		{"terminal", true, false, nil, true},
		{"pipe", false, false, nil, false},
		{"--no-color", true, true, nil, false},
		{"NO_COLOR", true, false, map[string]string{"NO_COLOR": "1"}, false},
		{"dumb terminal", true, false, map[string]string{"TERM": "dumb"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios := &IOStreams{StdoutTTY: tc.tty, NoColor: tc.noColor, Env: func(k string) string { return tc.env[k] }}
			if got := ios.ColorEnabled(); got != tc.want {
				t.Errorf("ColorEnabled() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStateDirHonoursMAILXHOME(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	ios, _, _ := TestIO("")
	ios.Env = func(k string) string {
		if k == "MAILX_HOME" {
			return dir
		}
		return ""
	}
	got, err := ios.StateDir()
	if err != nil || got != dir {
		t.Fatalf("StateDir() = %q, %v", got, err)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Errorf("state dir not created: %v", err)
	}
}

// TestBinary builds the real binary and checks exit codes and stderr as a
// shell sees them.
func TestBinary(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "mailx ") {
		t.Fatalf("mailx version: %v %s", err, out)
	}
	cmd := exec.Command(bin, "no-such-command")
	out, err = cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != ExitUsage {
		t.Fatalf("exit = %v, want %d; output %s", err, ExitUsage, out)
	}
	if !strings.Contains(string(out), "mailx: unknown command") || strings.Contains(string(out), "goroutine") {
		t.Errorf("stderr = %s", out)
	}
}
