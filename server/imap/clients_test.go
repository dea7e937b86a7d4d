package imap

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/server/maildir"
)

// run runs a real client program with a time limit and returns its output.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	return testkit.Run(t, 30*time.Second, exec.Command(testkit.NeedCommand(t, name, name), args...))
}

func folderCount(t *testing.T, data, name string) int {
	t.Helper()
	mb, err := maildir.OpenMailbox(maildir.Root(data, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := mb.Folder(name)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := f.Messages()
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

// TestPythonImaplib: select, search, fetch, store \Seen, copy, expunge and
// append with Python's imaplib.
func TestPythonImaplib(t *testing.T) {
	e := startIMAP(t, nil)
	host, port, _ := net.SplitHostPort(e.addr)
	if out := run(t, "python3", "testdata/imaplib_session.py", host, port); !strings.Contains(out, "done") {
		t.Errorf("imaplib session:\n%s", out)
	}
	for name, want := range map[string]int{"INBOX": 1, "Trash": 1, "Sent": 1} {
		if got := folderCount(t, e.data, name); got != want {
			t.Errorf("%s holds %d messages, want %d", name, got, want)
		}
	}
}

// TestCurlIMAP: curl lists folders, searches, fetches, stores \Seen,
// copies, expunges and appends.
func TestCurlIMAP(t *testing.T) {
	e := startIMAP(t, nil)
	base := "imap://" + e.addr + "/"
	curl := func(args ...string) string {
		return run(t, "curl", append([]string{"-sS", "--max-time", "20", "-u", "alice:hungry"}, args...)...)
	}
	if out := curl(base); !strings.Contains(out, "Trash") || !strings.Contains(out, "INBOX") {
		t.Errorf("curl LIST:\n%s", out)
	}
	if out := curl(base + "INBOX?SUBJECT%20report"); !strings.Contains(out, "SEARCH 2") {
		t.Errorf("curl SEARCH:\n%s", out)
	}
	if out := curl(base + "INBOX;UID=1"); strings.ReplaceAll(out, "\r\n", "\n") != strings.ReplaceAll(msg1, "\r\n", "\n") {
		t.Errorf("curl FETCH = %q", out)
	}
	if out := curl(base+"INBOX", "-X", `STORE 2 +FLAGS \Seen`); !strings.Contains(out, `\Seen`) {
		t.Errorf("curl STORE:\n%s", out)
	}
	curl(base+"INBOX", "-X", "COPY 2 Trash")
	curl(base+"INBOX", "-X", `STORE 1 +FLAGS \Deleted`)
	curl(base+"INBOX", "-X", "EXPUNGE")
	file := filepath.Join(t.TempDir(), "draft.eml")
	os.WriteFile(file, []byte("Subject: draft from curl\r\n\r\nnot finished\r\n"), 0o600)
	curl("-T", file, base+"Drafts")
	for name, want := range map[string]int{"INBOX": 1, "Trash": 1, "Drafts": 1} {
		if got := folderCount(t, e.data, name); got != want {
			t.Errorf("%s holds %d messages, want %d", name, got, want)
		}
	}
}
