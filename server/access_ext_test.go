package server

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
)

// TestAccessServersReadDeliveries: a message accepted by SMTP reaches an
// IMAP client in IDLE without a command, then the seeds' POP3 session
// (user alice / pass hungry / list / retr / dele / quit) downloads and
// deletes it; both sessions leave transcripts.
func TestAccessServersReadDeliveries(t *testing.T) {
	ev := newEvents()
	cfg := testConfig(t)
	cfg.Trace = ev.hook
	m := startMTA(t, cfg)

	ic, err := net.DialTimeout("tcp", m.Addr("imap"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer ic.Close()
	ic.SetDeadline(time.Now().Add(30 * time.Second))
	ir := bufio.NewReader(ic)
	expect := func(r *bufio.Reader, prefix string) string {
		t.Helper()
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("waiting for %q: %v", prefix, err)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
	}
	expect(ir, "* OK")
	ic.Write([]byte("a1 LOGIN alice hungry\r\na2 SELECT INBOX\r\n"))
	expect(ir, "a2 OK")
	ic.Write([]byte("a3 IDLE\r\n"))
	expect(ir, "+")

	smtpSession(t, m.Addr("smtp"), [][2]string{
		{"EHLO client.test\r\n", "250"},
		{"MAIL FROM:<bob@example.com>\r\n", "250"},
		{"RCPT TO:<alice@mailx.test>\r\n", "250"},
		{"DATA\r\n", "354"},
		{"Subject: lunch?\r\n\r\nAre you hungry?\r\n.\r\n", "250"},
		{"QUIT\r\n", "221"},
	})
	// The push must come by itself, within the connection's 30 s deadline;
	// its speed is server/imap's BenchmarkIdlePush.
	expect(ir, "* 1 EXISTS")
	ic.Write([]byte("DONE\r\na4 LOGOUT\r\n"))
	expect(ir, "a4 OK")

	pc, err := net.DialTimeout("tcp", m.Addr("pop3"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	pc.SetDeadline(time.Now().Add(30 * time.Second))
	pr := bufio.NewReader(pc)
	expect(pr, "+OK")
	for _, step := range [][2]string{{"user alice", "+OK"}, {"pass hungry", "+OK"}, {"list", "."}, {"retr 1", "Are you hungry?"}, {"", "."}, {"dele 1", "+OK"}, {"quit", "+OK"}} {
		if step[0] != "" {
			pc.Write([]byte(step[0] + "\r\n"))
		}
		expect(pr, step[1])
	}
	if files, _ := filepath.Glob(filepath.Join(cfg.Data, "mail", "alice", "cur", "*")); len(files) != 0 {
		t.Errorf("after POP3 QUIT alice's cur/ holds %v", files)
	}
	for _, p := range []string{"pop3", "imap"} {
		var session string
		for _, e := range ev.All() {
			if e.Proto == p && e.Dir == transcript.Meta && strings.HasPrefix(e.Line, "connect from") {
				session = e.Session
			}
		}
		if session == "" {
			t.Fatalf("no %s session in the trace", p)
		}
		ev.waitMeta(t, session, "closed")
		tr, _ := filepath.Glob(filepath.Join(cfg.Data, "transcripts", "*-"+session+".txt"))
		if len(tr) != 1 {
			t.Fatalf("no transcript for %s session %s", p, session)
		}
		b, _ := os.ReadFile(tr[0])
		if !strings.Contains(string(b), "# protocol: "+p) || !strings.Contains(string(b), "alice") {
			t.Errorf("%s transcript:\n%s", p, b)
		}
	}
}
