package imap

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func serveForBench(b *testing.B, s *Server) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve(ln)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return ln.Addr().String()
}

type benchClient struct {
	b    *testing.B
	conn net.Conn
	br   *bufio.Reader
	n    int
}

func dialBench(b *testing.B, addr string) *benchClient {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	bc := &benchClient{b: b, conn: c, br: bufio.NewReaderSize(c, 64<<10)}
	bc.br.ReadString('\n')
	return bc
}

// okB sends a command and reads its response lines (skipping literal
// contents), failing unless it ends in OK.
func (c *benchClient) okB(cmd string) []string {
	c.n++
	tag := fmt.Sprintf("b%d", c.n)
	fmt.Fprintf(c.conn, "%s %s\r\n", tag, cmd)
	var out []string
	for {
		l, err := c.br.ReadString('\n')
		if err != nil {
			c.b.Fatal(err)
		}
		if n := literalSize(strings.TrimSuffix(l, "\r\n")); n >= 0 {
			c.br.Discard(n)
			continue
		}
		out = append(out, l)
		if strings.HasPrefix(l, tag+" ") {
			if !strings.HasPrefix(l, tag+" OK") {
				c.b.Fatalf("%s: %s", cmd, l)
			}
			return out
		}
	}
}
