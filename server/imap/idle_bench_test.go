package imap

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkIdlePush measures how long a message delivered into the Maildir
// takes to reach a client in IDLE as "* N EXISTS" (ns/op is that latency).
// TestIdleSeesDelivery checks only that the push arrives; the speed goal
// (well under a second) lives here, where a loaded machine cannot fail a
// unit test with it.
func BenchmarkIdlePush(b *testing.B) {
	e := startIMAP(b, func(c *Config) { c.Trace = nil })
	c := dialBench(b, e.addr)
	c.okB("LOGIN alice hungry")
	c.okB("SELECT INBOX")
	fmt.Fprintf(c.conn, "i1 IDLE\r\n")
	if l, err := c.br.ReadString('\n'); err != nil || !strings.HasPrefix(l, "+") {
		b.Fatalf("IDLE = %q, %v", l, err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.deliver(b, "alice", "Subject: push\r\n\r\nhello\r\n")
		for {
			l, err := c.br.ReadString('\n')
			if err != nil {
				b.Fatal(err)
			}
			if strings.HasSuffix(l, " EXISTS\r\n") {
				break
			}
		}
	}
	b.StopTimer()
	fmt.Fprintf(c.conn, "DONE\r\n")
}
