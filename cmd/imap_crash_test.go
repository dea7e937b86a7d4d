package cmd

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
)

// TestServeCrashAfterIMAPMoves is issue 21's item 6: messages delivered,
// then at once moved by IMAP out of INBOX, then SIGKILL well within the
// second before a periodic journal checkpoint. After the restart, whose
// journal replay rewrites any delivered file it misses in INBOX, each
// message must be where IMAP left it, once, and a deleted one nowhere.
// Each case starts its own server, so that no earlier step's checkpoint
// covers for a later one.
func TestServeCrashAfterIMAPMoves(t *testing.T) {
	if testing.Short() {
		t.Skip("starts mailx serve several times; skipped with -short")
	}
	cases := []struct {
		name string
		cmds []string
		want map[string]string // subject → folder directory ("" : gone)
	}{
		{"rename inbox", []string{"RENAME INBOX Old"}, map[string]string{"s1": ".Old", "s2": ".Old"}},
		{"move within inbox", []string{"SELECT INBOX", "MOVE 1:2 INBOX"}, map[string]string{"s1": ".", "s2": "."}},
		{"rename then delete", []string{"RENAME INBOX Old", "RENAME Old Older", "DELETE Older"}, map[string]string{"s1": "", "s2": ""}},
		{"move out", []string{"SELECT INBOX", "MOVE 1 Trash"}, map[string]string{"s1": ".Trash", "s2": "."}},
	}
	bin := buildBinary(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			crashAfterIMAP(t, bin, tc.cmds, tc.want)
		})
	}
}

func crashAfterIMAP(t *testing.T, bin string, cmds []string, want map[string]string) {
	data := t.TempDir()
	srv := startServeBinary(t, bin, data, "smtp", "imap")
	smtpAddr, imapAddr := srv.addr(t, "smtp"), srv.addr(t, "imap")
	ic, err := net.DialTimeout("tcp", imapAddr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	ic.SetDeadline(time.Now().Add(30 * time.Second))
	ir := bufio.NewReader(ic)
	ir.ReadString('\n')
	n := 0
	imapCmd := func(cmd string) string {
		n++
		tag := fmt.Sprintf("c%d", n)
		fmt.Fprintf(ic, "%s %s\r\n", tag, cmd)
		var all strings.Builder
		for {
			l, err := ir.ReadString('\n')
			if err != nil {
				t.Fatalf("IMAP %s: %v", cmd, err)
			}
			all.WriteString(l)
			if strings.HasPrefix(l, tag+" ") {
				if !strings.HasPrefix(l, tag+" OK") {
					t.Fatalf("IMAP %s: %s", cmd, all.String())
				}
				return all.String()
			}
		}
	}
	imapCmd("LOGIN bob crash-test") // before the mail: bcrypt takes its time

	sendPlain(t, smtpAddr, "carol@far.test", "bob@mx.test", "Subject: s1\r\n\r\nHello.\r\n", "Subject: s2\r\n\r\nHello.\r\n")
	start := time.Now()
	testkit.Eventually(t, 30*time.Second, func() bool { return strings.Contains(imapCmd("STATUS INBOX (MESSAGES)"), "MESSAGES 2") },
		"the messages did not arrive in INBOX")
	for _, c := range cmds {
		imapCmd(c)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Logf("the IMAP steps took %s: a periodic checkpoint may have come first, and the test proves less", d)
	}
	srv.kill(t)

	startServeBinary(t, bin, data, "smtp", "imap").kill(t)
	where := map[string][]string{}
	root := filepath.Join(data, "mail", "bob")
	filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		dir := filepath.Base(filepath.Dir(path))
		if dir != "new" && dir != "cur" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		if m := regexp.MustCompile(`(?m)^Subject: (s\d)\r?$`).FindStringSubmatch(string(b)); m != nil {
			folder, _ := filepath.Rel(root, filepath.Dir(filepath.Dir(path)))
			where[m[1]] = append(where[m[1]], folder)
		}
		return nil
	})
	for s, folder := range want {
		got := where[s]
		if folder == "" && len(got) != 0 || folder != "" && (len(got) != 1 || got[0] != folder) {
			t.Errorf("%s is in %v after the kill and restart, want %q once (\"\": nowhere)", s, got, folder)
		}
	}
}
