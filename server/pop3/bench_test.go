package pop3

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/server/access"
	"github.com/mailx-edu/mailx/server/maildir"
)

// BenchmarkRetr10k is POP3 RETR throughput: 100 messages per operation
// from a 10,000-message maildrop (login, which lists the maildrop, is
// outside the timer; BenchmarkLogin10k times it).
func BenchmarkRetr10k(b *testing.B) {
	data := b.TempDir()
	size := fillDrop(b, maildir.Root(data, "alice"), 10000)
	c := benchLogin(b, data)
	b.SetBytes(size * 100 / 10000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < 100; j++ {
			fmt.Fprintf(c.w, "RETR %d\r\n", 1+(i*100+j)%10000)
		}
		c.w.Flush()
		for j := 0; j < 100; j++ {
			if l, _ := c.r.ReadString('\n'); !strings.HasPrefix(l, "+OK") {
				b.Fatalf("RETR: %q", l)
			}
			for {
				l, err := c.r.ReadString('\n')
				if err != nil {
					b.Fatal(err)
				}
				if l == ".\r\n" {
					break
				}
			}
		}
	}
}

// BenchmarkLogin10k is USER/PASS on a 10,000-message maildrop: the
// server opens, locks and lists it (bcrypt is not involved: the test
// accounts compare plain strings).
func BenchmarkLogin10k(b *testing.B) {
	data := b.TempDir()
	fillDrop(b, maildir.Root(data, "alice"), 10000)
	srv := New(Config{MailboxServer: access.MailboxServer{Accounts: practice, MailRoot: func(u string) string { return maildir.Root(data, u) }}})
	addr := serve(b, srv)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := dialB(b, addr)
		fmt.Fprintf(c.w, "USER alice\r\nPASS hungry\r\nQUIT\r\n")
		c.w.Flush()
		c.r.ReadString('\n')
		if l, _ := c.r.ReadString('\n'); !strings.HasPrefix(l, "+OK alice's maildrop has 10000") {
			b.Fatalf("PASS: %q", l)
		}
		c.r.ReadString('\n')
		c.conn.Close()
	}
}

type benchConn struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
}

func serve(b *testing.B, srv *Server) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ln.Addr().String()
}

func dialB(b *testing.B, addr string) *benchConn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	bc := &benchConn{conn: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriter(c)}
	bc.r.ReadString('\n')
	return bc
}

func benchLogin(b *testing.B, data string) *benchConn {
	srv := New(Config{MailboxServer: access.MailboxServer{Accounts: practice, MailRoot: func(u string) string { return maildir.Root(data, u) }}})
	c := dialB(b, serve(b, srv))
	b.Cleanup(func() { c.conn.Close() })
	fmt.Fprintf(c.w, "USER alice\r\nPASS hungry\r\n")
	c.w.Flush()
	c.r.ReadString('\n')
	if l, _ := c.r.ReadString('\n'); !strings.HasPrefix(l, "+OK") {
		b.Fatalf("PASS: %q", l)
	}
	return c
}

// fillDrop writes n messages into root/cur as Deliver names them (no
// fsyncs: a fixture) and returns their total size with CRLF.
func fillDrop(b *testing.B, root string, n int) int64 {
	if err := maildir.Create(root); err != nil {
		b.Fatal(err)
	}
	var total int64
	for i := 0; i < n; i++ {
		body := fmt.Sprintf("From: bob@mx.test\nSubject: message %d\n\n%s\n", i, strings.Repeat("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n", 30))
		w := len(body) + strings.Count(body, "\n")
		total += int64(w)
		name := fmt.Sprintf("%d.M%dP1Q%d.bench,S=%d,W=%d%s2,S", 1700000000+i, i, i, len(body), w, maildir.InfoSep)
		if err := os.WriteFile(filepath.Join(root, "cur", name), []byte(body), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	// A maildrop not written to in the last seconds, as a real one usually
	// is: its directory mtimes have settled (see maildir's settle rule).
	old := time.Now().Add(-time.Minute)
	for _, d := range []string{"cur", "new"} {
		os.Chtimes(filepath.Join(root, d), old, old)
	}
	return total
}
