package smtp

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/access"
)

// memConn is a connection whose client side is a fixed byte string; what
// the server writes is kept.
type memConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (c *memConn) Read(p []byte) (int, error)         { return c.in.Read(p) }
func (c *memConn) Write(p []byte) (int, error)        { return c.out.Write(p) }
func (c *memConn) Close() error                       { return nil }
func (c *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2525} }
func (c *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000} }
func (c *memConn) SetDeadline(t time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { return nil }

// FuzzSession runs a whole session on arbitrary client bytes: the server
// must never panic (a recovered panic shows as 421 4.3.0), every reply line
// must be well formed, and nothing may be queued unless the text ended in a
// proper end-of-data line.
func FuzzSession(f *testing.F) {
	for _, s := range []string{
		"EHLO a\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<bob@mailx.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n",
		"HELO a\nMAIL FROM:<a@b>\nRCPT TO:<alice@mailx.test>\nDATA\nhi\n.\n",
		"EHLO a\r\nAUTH PLAIN AGFsaWNlAGh1bmdyeQ==\r\nMAIL FROM:<a@b> SIZE=10\r\nRCPT TO:<x@y.test>\r\nDATA\r\nx\n.\r\n.\r\n",
		"EHLO a\r\nAUTH LOGIN\r\nYWxpY2U=\r\n*\r\nSTARTTLS\r\n",
		"EHLO a\r\nMAIL FROM:<\"a@b\"@mailx.test>\r\nRCPT TO:<@x:bob@mailx.test>\r\nRSET\r\nVRFY bob\r\nHELP RCPT\r\n",
		"\r\n\x00\xff\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		_, _ = bulkReaders.New(), writerPool.New() // see FuzzBulkLinesMatchLineByLine
		q := &fakeQueue{}
		srv := New(Config{
			Hostname:  "mx.mailx.test",
			Directory: testDirVal,
			Queue:     q,
			Limits:    Limits{AuthFailDelay: -1, Errors: 1000},
			Trace:     func(transcript.Event) {},
		})
		c := &memConn{in: bytes.NewReader(in)}
		newSession(srv, c, access.AddrOf(c.RemoteAddr())).run()
		out := c.out.String()
		if strings.Contains(out, "421 4.3.0") {
			t.Fatalf("session panicked on %q:\n%s", in, out)
		}
		for _, l := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
			if len(l) < 4 || l[3] != ' ' && l[3] != '-' || strings.ContainsAny(l, "\r\n") {
				t.Fatalf("malformed reply line %q", l)
			}
		}
		if n := len(q.messages()); n > 0 && !bytes.Contains(in, []byte("\n.\r\n")) && !bytes.Contains(in, []byte("\n.\n")) {
			t.Fatalf("%d messages queued without an end-of-data line", n)
		}
	})
}

// chunkConn is a memConn whose reads return at most chunk octets, so that
// lines straddle the ends of the read buffer's contents.
type chunkConn struct {
	memConn
	chunk int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(p) > c.chunk {
		p = p[:c.chunk]
	}
	return c.in.Read(p)
}

// FuzzBulkLinesMatchLineByLine: the message text taken in bulk
// (takeLinesInBulk) must give the same replies and the same queued messages
// as reading it line by line, whatever the text holds (bare CR or LF, dot
// lines, long lines, a text over the size limit) and however the client's
// octets arrive.
func FuzzBulkLinesMatchLineByLine(f *testing.F) {
	for _, s := range []string{
		"Subject: x\r\n\r\nhi\r\n.\r\n",
		"Subject: x\r\n\r\n" + strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz\r\n", 60) + "..dot\r\n.\r\n",
		"Subject: x\r\n\r\nline\r\nbare\nLF\r\n.\r\n",
		"Subject: x\r\n\r\nbare\rCR\r\n\r\n.\r\n",
		"Subject: x\r\n\r\n" + strings.Repeat("y", 1200) + "\r\nafter\r\n.\r\n",
		"Subject: x\r\n\r\na\r\n\r\n.\n.\r\nMAIL FROM:<a@b>\r\n",
		"Subject: x\r\n\r\n" + strings.Repeat("big\r\n", 500) + ".\r\n",
	} {
		f.Add([]byte(s), uint16(7))
		f.Add([]byte(s), uint16(4096))
	}
	run := func(in []byte, chunk int, bulk bool) (string, []fakeMsg) {
		saved := bulkScan
		bulkScan = bulk
		defer func() { bulkScan = saved }()
		q := &fakeQueue{}
		srv := New(Config{
			Hostname:  "mx.mailx.test",
			Directory: testDirVal,
			Queue:     q,
			Limits:    Limits{AuthFailDelay: -1, Errors: 1000, MessageSize: 2000, TextLine: 1000},
			Now:       func() time.Time { return time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) },
		})
		c := &chunkConn{memConn: memConn{in: bytes.NewReader(in)}, chunk: chunk}
		newSession(srv, c, access.AddrOf(c.RemoteAddr())).run()
		return c.out.String(), q.messages()
	}
	f.Fuzz(func(t *testing.T, text []byte, chunk uint16) {
		// The pools' New functions run only when the garbage collector has
		// emptied a pool: coverage that comes and goes makes the fuzzer
		// take runs as new, then spend its minute of minimizing on each
		// in vain (28 inputs a minute). Running them every time keeps the
		// coverage a function of the input alone.
		_, _ = bulkReaders.New(), writerPool.New()
		in := append([]byte("EHLO a\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<bob@mailx.test>\r\nDATA\r\n"), text...)
		in = append(in, "\r\n.\r\nQUIT\r\n"...)
		c := max(int(chunk), 1)
		outBulk, msgsBulk := run(in, c, true)
		outLines, msgsLines := run(in, c, false)
		if outBulk != outLines {
			t.Fatalf("replies differ for %q (reads of %d):\nin bulk:\n%s\nline by line:\n%s", text, c, outBulk, outLines)
		}
		if len(msgsBulk) != len(msgsLines) {
			t.Fatalf("%d messages queued in bulk, %d line by line, for %q", len(msgsBulk), len(msgsLines), text)
		}
		for i := range msgsBulk {
			if msgsBulk[i].Data != msgsLines[i].Data {
				t.Fatalf("message %d differs for %q:\nin bulk:\n%q\nline by line:\n%q", i+1, text, msgsBulk[i].Data, msgsLines[i].Data)
			}
		}
	})
}
