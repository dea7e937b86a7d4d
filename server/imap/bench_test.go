package imap

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/server/access"
	"github.com/mailx-edu/mailx/server/maildir"
)

// fill writes n messages straight into root/cur, named as Deliver names
// them (without fsyncs: this is a fixture, not a delivery), and builds the
// folder index once, as the first login after they arrived would.
func fill(b *testing.B, root string, n int) {
	b.Helper()
	if err := maildir.Create(root); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		body := fmt.Sprintf("From: bob@mx.test\nTo: alice@mx.test\nSubject: message %d\nMessage-ID: <%d@mx.test>\n\n%s\n", i, i, strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n", 30))
		lines := strings.Count(body, "\n")
		name := fmt.Sprintf("%d.M%dP1Q%d.bench,S=%d,W=%d%s2,", 1700000000+i, i, i, len(body), len(body)+lines, maildir.InfoSep)
		if i%2 == 0 {
			name += "S"
		}
		if err := os.WriteFile(filepath.Join(root, "cur", name), []byte(body), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	f, err := maildir.OpenFolder(root)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.Messages(); err != nil {
		b.Fatal(err)
	}
	// Let the directories' mtimes settle, as they are for a mailbox that
	// was not written to in the last seconds.
	old := time.Now().Add(-time.Minute)
	for _, d := range []string{"cur", "new"} {
		os.Chtimes(filepath.Join(root, d), old, old)
	}
}

func benchEnv(b *testing.B, n int) (*env, *benchClient) {
	e := &env{data: b.TempDir()}
	fill(b, maildir.Root(e.data, "alice"), n)
	e.srv = New(Config{MailboxServer: access.MailboxServer{Accounts: practice, MailRoot: func(u string) string { return maildir.Root(e.data, u) }}})
	addr := serveForBench(b, e.srv)
	c := dialBench(b, addr)
	c.okB("LOGIN alice hungry")
	return e, c
}

// BenchmarkSelect10k is SELECT latency on a 10,000-message INBOX (goal:
// under 100 ms).
func BenchmarkSelect10k(b *testing.B) {
	_, c := benchEnv(b, 10000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.okB("SELECT INBOX")
	}
}

// BenchmarkFetchFlags10k is FETCH 1:* (FLAGS) on 10,000 messages (goal:
// under 200 ms).
func BenchmarkFetchFlags10k(b *testing.B) {
	_, c := benchEnv(b, 10000)
	c.okB("EXAMINE INBOX")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out := c.okB("FETCH 1:* (FLAGS)"); len(out) != 10001 {
			b.Fatalf("FETCH returned %d lines", len(out))
		}
	}
}

// BenchmarkFetchBody10k is IMAP FETCH BODY.PEEK[] throughput, 100 messages
// per operation from a 10,000-message mailbox.
func BenchmarkFetchBody10k(b *testing.B) {
	e, c := benchEnv(b, 10000)
	c.okB("EXAMINE INBOX")
	f, _ := maildir.OpenFolder(maildir.Root(e.data, "alice"))
	msgs, _ := f.Messages()
	var size int64
	for _, m := range msgs[:100] {
		size += m.Size
	}
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := 1 + (i*100)%9900
		c.okB(fmt.Sprintf("FETCH %d:%d (BODY.PEEK[])", start, start+99))
	}
}

// BenchmarkFetchEnvelope10k is FETCH 1:* (ENVELOPE) on 10,000 messages,
// after the first pass has cached every envelope (as a client's second
// visit finds it).
func BenchmarkFetchEnvelope10k(b *testing.B) {
	_, c := benchEnv(b, 10000)
	c.okB("EXAMINE INBOX")
	c.okB("FETCH 1:* (ENVELOPE)")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out := c.okB("FETCH 1:* (ENVELOPE)"); len(out) != 10001 {
			b.Fatalf("FETCH returned %d lines", len(out))
		}
	}
}

// BenchmarkStore10k is STORE +FLAGS/-FLAGS on one message of a
// 10,000-message INBOX: one rename each.
func BenchmarkStore10k(b *testing.B) {
	_, c := benchEnv(b, 10000)
	c.okB("SELECT INBOX")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op := "+"
		if i%2 == 1 {
			op = "-"
		}
		c.okB(fmt.Sprintf("STORE %d %sFLAGS.SILENT (\\Flagged $Label1)", 1+i%10000, op))
	}
}

// BenchmarkAppend is APPEND of a 2 KB message into a 1,000-message INBOX,
// each durable (fsync of the file and of cur/) before its OK.
func BenchmarkAppend(b *testing.B) {
	_, c := benchEnv(b, 1000)
	msg := "Subject: appended\r\n\r\n" + strings.Repeat("0123456789abcdef\r\n", 110)
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.okB(fmt.Sprintf("APPEND INBOX (\\Seen) {%d+}\r\n%s", len(msg), msg))
	}
}

// BenchmarkExpunge is STORE \Deleted plus EXPUNGE of one message of a
// 10,000-message INBOX.
func BenchmarkExpunge(b *testing.B) {
	if b.N > 9000 {
		b.N = 9000
	}
	_, c := benchEnv(b, 10000)
	c.okB("SELECT INBOX")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.okB("STORE 1 +FLAGS.SILENT (\\Deleted)")
		c.okB("EXPUNGE")
	}
}
