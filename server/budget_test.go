package server

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dialFrom connects to addr from the loopback address from (127.0.0.x), or
// skips the test where the system does not route all of 127.0.0.0/8 to
// loopback (macOS, Windows).
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		if from != "127.0.0.1" {
			t.Skipf("cannot connect from %s (only Linux routes all of 127.0.0.0/8 to loopback): %v", from, err)
		}
		t.Fatal(err)
	}
	return c
}

// firstLine reads a connection's first line within 10 s.
func firstLine(t *testing.T, c net.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return strings.TrimRight(line, "\r\n")
}

// TestSessionBudgetHoldsUnderIdleFlood: idle POP3 and IMAP connections from
// several addresses fill the shared budget, each over its cap hears the
// protocol's busy answer, and SMTP still greets a new client at once.
func TestSessionBudgetHoldsUnderIdleFlood(t *testing.T) {
	cfg := testConfig(t)
	cfg.Limits.Sessions = 60
	cfg.Limits.SessionsPerClient = 10
	m := startMTA(t, cfg)
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	counts := map[string]int{}
	for i := 0; i < 12; i++ {
		c := dialFrom(t, "127.0.0.2", m.Addr("pop3"))
		conns = append(conns, c)
		line := firstLine(t, c)
		switch {
		case strings.HasPrefix(line, "+OK"):
			counts["pop3 ok"]++
		case strings.HasPrefix(line, "-ERR [SYS/TEMP]") && strings.Contains(line, "per client"):
			counts["pop3 per-client"]++
		default:
			t.Fatalf("pop3 connection %d from 127.0.0.2: %q", i+1, line)
		}
	}
	if counts["pop3 ok"] != 10 || counts["pop3 per-client"] != 2 {
		t.Fatalf("12 POP3 connections from one address with a cap of 10: %v", counts)
	}
	for a := 3; a < 11; a++ {
		from := fmt.Sprintf("127.0.0.%d", a)
		for i := 0; i < 10; i++ {
			for _, svc := range []string{"pop3", "imap"} {
				c := dialFrom(t, from, m.Addr(svc))
				conns = append(conns, c)
				line := firstLine(t, c)
				switch {
				case strings.HasPrefix(line, "+OK") || strings.HasPrefix(line, "* OK"):
					counts[svc+" ok"]++
				case svc == "pop3" && strings.HasPrefix(line, "-ERR [SYS/TEMP] too busy"):
					counts["pop3 busy"]++
				case svc == "imap" && strings.HasPrefix(line, "* BYE [UNAVAILABLE] too busy"):
					counts["imap busy"]++
				default:
					t.Fatalf("%s connection from %s: %q", svc, from, line)
				}
			}
		}
	}
	ok := counts["pop3 ok"] + counts["imap ok"]
	if ok > 60-6 || counts["pop3 busy"] == 0 || counts["imap busy"] == 0 {
		t.Errorf("flood outcome %v: want at most 54 sessions admitted (60 less SMTP's reserve) and busy answers on both", counts)
	}
	if open := m.Budget.Open(); open > 60 {
		t.Errorf("%d sessions open, over the budget of 60", open)
	}
	start := time.Now()
	c := dialFrom(t, "127.0.0.1", m.Addr("smtp"))
	conns = append(conns, c)
	if line := firstLine(t, c); !strings.HasPrefix(line, "220 ") {
		t.Fatalf("SMTP during the flood: %q, want its 220 greeting", line)
	}
	t.Logf("flood %v; SMTP greeted in %s", counts, time.Since(start))
}

// TestTranscriptsStayWithinBudget: connect-and-close cycles write no
// files (the log counts them), and sessions that talk keep the directory
// under its size, the oldest removed first.
func TestTranscriptsStayWithinBudget(t *testing.T) {
	cfg := testConfig(t)
	cfg.TranscriptsMaxSize = 32 << 10
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			m.Shutdown(ctx)
		}
	}
	t.Cleanup(stop)
	dir := filepath.Join(cfg.Data, "transcripts")
	const cycles = 200
	for i := 0; i < cycles; i++ {
		for _, svc := range []string{"smtp", "pop3", "imap"} {
			c := dialFrom(t, "127.0.0.1", m.Addr(svc))
			c.Close()
		}
	}
	// Sessions that said something: each leaves a file of a few hundred octets.
	for i := 0; i < 150; i++ {
		smtpSession(t, m.Addr("smtp"), [][2]string{{"EHLO budget.test\r\n", "250"}, {"NOOP " + strings.Repeat("x", 200) + "\r\n", "250"}, {"QUIT\r\n", "221"}})
	}
	stop()
	var total int64
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		info, _ := e.Info()
		total += info.Size()
		names = append(names, e.Name())
	}
	if total > 32<<10 {
		t.Errorf("transcripts hold %d octets in %d files, over the budget of %d", total, len(entries), 32<<10)
	}
	if len(entries) == 0 || len(entries) >= 150 {
		t.Errorf("%d transcript files after 150 talking sessions and a 32 KiB budget: want the newest only", len(entries))
	}
	for _, n := range names {
		b, _ := os.ReadFile(filepath.Join(dir, n))
		if !strings.Contains(string(b), "EHLO budget.test") {
			t.Errorf("%s is not a talking session's transcript:\n%s", n, b)
		}
	}
	logb, _ := os.ReadFile(filepath.Join(cfg.Data, "log", "mailx.log"))
	if !strings.Contains(string(logb), `"sessions closed before the client sent anything (no transcript kept)","sessions":600`) {
		t.Errorf("the log does not count the 600 silent sessions:\n%s", lastLines(string(logb), 5))
	}
	if !strings.Contains(string(logb), "old transcripts removed") {
		t.Error("the log does not say old transcripts were removed")
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

// TestTranscriptBudgetRemovesOldFiles: at start, files older than the age
// go; then the oldest go first when the size is exceeded.
func TestTranscriptBudgetRemovesOldFiles(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	write := func(name string, size int, age time.Duration) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, now.Add(-age), now.Add(-age))
	}
	write("a.txt", 100, 20*24*time.Hour)
	write("b.txt", 100, 3*time.Hour)
	write("c.txt", 100, 2*time.Hour)
	write("notes.md", 100, 40*24*time.Hour) // not a transcript: left alone
	b := newTranscriptBudget(dir, 250, 14*24*time.Hour, discardLogger())
	if n, size := b.usage(); n != 2 || size != 200 {
		t.Errorf("after start: %d files, %d octets; want b and c, 200", n, size)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.txt")); err == nil {
		t.Error("a.txt, 20 days old, was kept")
	}
	p := filepath.Join(dir, "d.txt")
	os.WriteFile(p, make([]byte, 100), 0o600)
	b.wrote(p, 100)
	for name, want := range map[string]bool{"b.txt": false, "c.txt": true, "d.txt": true, "notes.md": true} {
		_, err := os.Stat(filepath.Join(dir, name))
		if got := err == nil; got != want {
			t.Errorf("%s kept = %v, want %v", name, got, want)
		}
	}
	unlimited := newTranscriptBudget(dir, -1, -1, discardLogger())
	unlimited.wrote(p, 1<<40)
	if _, err := os.Stat(filepath.Join(dir, "c.txt")); err != nil {
		t.Error("an unlimited budget removed a file")
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestOneSessionCannotFillTheTranscripts: a session that talks on and on
// keeps at most a tenth of the budget, then a note that the rest is cut.
func TestOneSessionCannotFillTheTranscripts(t *testing.T) {
	cfg := testConfig(t)
	cfg.TranscriptsMaxSize = 200 << 10
	m := startMTA(t, cfg)
	steps := [][2]string{{"EHLO chatty.test\r\n", "250"}}
	for i := 0; i < 2000; i++ {
		steps = append(steps, [2]string{"NOOP " + strings.Repeat("z", 60) + "\r\n", "250"})
	}
	steps = append(steps, [2]string{"QUIT\r\n", "221"})
	smtpSession(t, m.Addr("smtp"), steps)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m.Shutdown(ctx)
	entries, _ := os.ReadDir(filepath.Join(cfg.Data, "transcripts"))
	if len(entries) != 1 {
		t.Fatalf("%d transcripts, want 1", len(entries))
	}
	b, _ := os.ReadFile(filepath.Join(cfg.Data, "transcripts", entries[0].Name()))
	if len(b) > 20<<10+flushAt+200 || !strings.Contains(string(b), "transcript cut at 20480 octets") {
		t.Errorf("the chatty session's transcript holds %d octets, want about 20 KiB and the cut note", len(b))
	}
	if !strings.HasSuffix(strings.TrimSpace(string(b)), "# closed") {
		t.Errorf("the cut transcript does not end with the close:\n...%s", b[len(b)-200:])
	}
}
