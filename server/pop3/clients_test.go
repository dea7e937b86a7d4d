package pop3

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
)

// run runs a real client program with a time limit and returns its output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	return testkit.Run(t, 30*time.Second, exec.Command(testkit.NeedCommand(t, name, name), args...))
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
	if msgs := inbox(t, e.data); len(msgs) != 1 {
		t.Errorf("after poplib's DELE and QUIT the maildrop holds %d messages, want 1", len(msgs))
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
