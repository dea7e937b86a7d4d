package pop3

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// run runs a real client program with a time limit and returns its output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (Debian package: %s)", name, map[string]string{"python3": "python3", "curl": "curl"}[name])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestPythonPoplib: list, retrieve (sizes and byte-stuffing as poplib sees
// them), delete, and the deletion visible in the next session.
func TestPythonPoplib(t *testing.T) {
	e := startPOP3(t, nil)
	host, port, _ := net.SplitHostPort(e.addr)
	out := run(t, "python3", "testdata/poplib_session.py", host, port)
	t.Log(out)
	if !strings.Contains(out, "after 1") || !strings.Contains(out, "done") {
		t.Errorf("poplib session:\n%s", out)
	}
}

// TestCurlPOP3: curl lists, retrieves and deletes.
func TestCurlPOP3(t *testing.T) {
	e := startPOP3(t, nil)
	base := "pop3://" + e.addr + "/"
	list := run(t, "curl", "-sS", "--max-time", "20", "-u", "alice:hungry", base)
	if !strings.Contains(list, "1 "+itoa(len(msg1))) || !strings.Contains(list, "2 "+itoa(len(msg2))) {
		t.Errorf("curl LIST:\n%s", list)
	}
	retr := run(t, "curl", "-sS", "--max-time", "20", "-u", "alice:hungry", base+"1")
	if strings.ReplaceAll(retr, "\r\n", "\n") != strings.ReplaceAll(msg1, "\r\n", "\n") {
		t.Errorf("curl RETR 1 = %q", retr)
	}
	run(t, "curl", "-sS", "--max-time", "20", "-u", "alice:hungry", "-X", "DELE", "-I", base+"1")
	if msgs := inbox(t, e.data); len(msgs) != 1 {
		t.Errorf("after curl DELE the maildrop holds %d messages, want 1", len(msgs))
	}
}
