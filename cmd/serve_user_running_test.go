package cmd

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/server/accounts"
	"github.com/mailx-edu/mailx/server/servertest"
)

// startUserServer runs an MTA on data whose accounts come from users (--user)
// or, when users is nil, from the accounts file.
func startUserServer(t *testing.T, data string, users []accounts.Credential) {
	t.Helper()
	servertest.Start(t, servertest.Options{Data: data, Services: []string{servertest.SMTP}, Users: users})
}

func TestServeUserRefusesWhileFlagsHoldTheAccounts(t *testing.T) {
	data := t.TempDir()
	startUserServer(t, data, []accounts.Credential{{Name: "teacher", Password: "chalk"}})
	for _, args := range [][]string{
		{"serve", "user", "add", "carol", "--password", "pw"},
		{"serve", "user", "passwd", "teacher", "--password", "pw"},
		{"serve", "user", "del", "teacher"},
	} {
		ios, _, errOut := TestIO("")
		code := run(context.Background(), append(args, "--data", data), ios)
		if code != ExitFailure || !strings.Contains(errOut.String(), "was started with --user accounts") ||
			!strings.Contains(errOut.String(), "(teacher)") || !strings.Contains(errOut.String(), "--user "+args[3]+":PASSWORD") {
			t.Errorf("%v: exit %d, stderr:\n%s", args, code, errOut.String())
		}
	}
	// Listing stays allowed: it only reads the file.
	ios, _, errOut := TestIO("")
	if code := run(context.Background(), []string{"serve", "user", "list", "--data", data}, ios); code != 0 {
		t.Errorf("list: exit %d: %s", code, errOut.String())
	}
}

func TestServeUserAddsWhileFileHoldsTheAccounts(t *testing.T) {
	data := t.TempDir()
	startUserServer(t, data, nil)
	ios, out, errOut := TestIO("")
	if code := run(context.Background(), []string{"serve", "user", "add", "carol", "--password", "pw", "--data", data}, ios); code != 0 {
		t.Fatalf("add with a file-based server running: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "added carol") {
		t.Errorf("add said %q", out.String())
	}
}

func TestAskPasswordTwice(t *testing.T) {
	reader := func(answers ...string) func() ([]byte, error) {
		return func() ([]byte, error) {
			if len(answers) == 0 {
				return nil, errors.New("end of input")
			}
			a := answers[0]
			answers = answers[1:]
			return []byte(a), nil
		}
	}
	var prompt strings.Builder
	if p, err := askPasswordTwice(&prompt, "carol", reader("s3cret", "s3cret")); err != nil || p != "s3cret" {
		t.Errorf("same twice: %q, %v", p, err)
	}
	if !strings.Contains(prompt.String(), "Password for carol: ") || !strings.Contains(prompt.String(), "Again, to be sure: ") {
		t.Errorf("prompts: %q", prompt.String())
	}
	if _, err := askPasswordTwice(&prompt, "carol", reader("s3cret", "s3crte")); err == nil || !strings.Contains(err.Error(), "differ") {
		t.Errorf("different passwords: %v", err)
	}
	if _, err := askPasswordTwice(&prompt, "carol", reader("")); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty password: %v", err)
	}
}
