package smtp

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/queue"
)

// nullQueue accepts and forgets, so the benchmark measures the server alone.
type nullQueue struct{}

type nullWriter struct{ io.Writer }

func (nullQueue) Begin() (MessageWriter, error)                  { return nullWriter{io.Discard}, nil }
func (nullWriter) ID() string                                    { return "BENCH" }
func (nullWriter) Commit(queue.Envelope) (string, func(), error) { return "BENCH", nil, nil }
func (nullWriter) Abort()                                        {}

// BenchmarkTransaction measures the SMTP server alone (no disk; tracing on,
// as when transcripts are kept): one pipelined MAIL/RCPT/DATA and message per
// iteration on one session, for 1 KB and 100 KB messages.
func BenchmarkTransaction(b *testing.B) {
	srv := New(Config{Hostname: "mx.mailx.test", Directory: testDirVal, Queue: nullQueue{},
		Limits: Limits{MessageSize: 1 << 30}, Trace: func(transcript.Event) {}})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(l)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	for _, size := range []int{1 << 10, 100 << 10} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			r := bufio.NewReader(c)
			reply := func() string {
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						b.Fatal(err)
					}
					if len(line) < 4 || line[3] != '-' {
						return line
					}
				}
			}
			reply()
			io.WriteString(c, "EHLO bench.test\r\n")
			reply()
			line := strings.Repeat("x", 76) + "\r\n"
			msg := "Subject: bench\r\n\r\n" + strings.Repeat(line, size/len(line)) + ".\r\n"
			b.SetBytes(int64(len(msg)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				io.WriteString(c, "MAIL FROM:<a@bench.test>\r\nRCPT TO:<bob@mailx.test>\r\nDATA\r\n")
				reply()
				reply()
				reply()
				io.WriteString(c, msg)
				if got := reply(); !strings.HasPrefix(got, "250") {
					b.Fatalf("end of DATA: %q", got)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
		})
	}
}
