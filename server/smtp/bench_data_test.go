package smtp

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/access"
)

// BenchmarkSessionInMemory measures the server's own work on a session of
// 50 pipelined messages (1 KB and 100 KB) read from memory, with no network
// and no disk: a steadier measure of the command loop and the DATA path
// than BenchmarkTransaction on a busy machine, where the loopback and the
// scheduler add most of the noise.
func BenchmarkSessionInMemory(b *testing.B) {
	const messages = 50
	for _, size := range []int{1 << 10, 100 << 10} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			line := strings.Repeat("x", 76) + "\r\n"
			msg := "Subject: bench\r\n\r\n" + strings.Repeat(line, size/len(line)) + ".\r\n"
			in := "EHLO bench.test\r\n" + strings.Repeat("MAIL FROM:<a@bench.test>\r\nRCPT TO:<bob@mailx.test>\r\nDATA\r\n"+msg, messages) + "QUIT\r\n"
			srv := New(Config{Hostname: "mx.mailx.test", Directory: testDirVal, Queue: nullQueue{},
				Limits: Limits{MessageSize: 1 << 30}, Trace: func(transcript.Event) {}})
			b.SetBytes(int64(len(msg) * messages))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c := &memConn{in: bytes.NewReader([]byte(in))}
				newSession(srv, c, access.AddrOf(c.RemoteAddr())).run()
				if n := strings.Count(c.out.String(), "250 2.0.0 Ok: queued"); n != messages {
					b.Fatalf("%d messages queued, want %d:\n%s", n, messages, c.out.String())
				}
			}
		})
	}
}
