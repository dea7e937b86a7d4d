package smtp

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/access"
)

// readAll runs a dataReader over in to the end of the text and returns the
// lines it passed on (unstuffed, joined with "|") and the reader.
func readAll(t *testing.T, in string, lfOnly bool, bulk bool) (string, *dataReader, error) {
	t.Helper()
	c := newClientReader(strings.NewReader(in))
	d := &dataReader{in: &c, lfOnly: lfOnly, maxLine: 20, maxSize: 60, timer: noTimer{}, prevOK: true}
	var got []string
	for {
		if bulk {
			if run := d.ordinaryLines(); run != nil {
				got = append(got, strings.Split(strings.TrimSuffix(string(run), "\r\n"), "\r\n")...)
				continue
			}
		}
		line, err := d.next()
		if err == io.EOF {
			return strings.Join(got, "|"), d, nil
		}
		if err != nil {
			return strings.Join(got, "|"), d, err
		}
		if d.clean() {
			got = append(got, string(line.content))
		}
	}
}

type noTimer struct{}

func (noTimer) setReadDeadline(time.Duration) {}

// TestDataReader: where the text ends, what the transparency dot does, and
// which fault refuses it, line by line and with lines taken in bulk.
func TestDataReader(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		lfOnly   bool
		lines    string // lines passed on while the text was clean
		why      string // start of the refusal's reason; "" for none
	}{
		{name: "plain", in: "a\r\nb\r\n.\r\nMAIL", lines: "a|b"},
		{name: "dot-stuffed", in: "..x\r\n.\r\n", lines: ".x"},
		{name: "empty line", in: "a\r\n\r\nb\r\n.\r\n", lines: "a||b"},
		{name: "dot after bare LF is text", in: "a\n.\r\nb\r\n.\r\n", lines: "", why: "bare LF at the end of line 1"},
		{name: "bare CR", in: "a\rb\r\n.\r\n", lines: "", why: "bare CR in line 1"},
		{name: "LF-only", in: "a\n..b\n.\n", lfOnly: true, lines: "a|.b"},
		{name: "CR in LF-only", in: "a\r\n\n.\n", lfOnly: true, lines: "", why: "a CR in line 1 of an LF-only session"},
		{name: "long line", in: "a\r\n" + strings.Repeat("x", 30) + "\r\nb\r\n.\r\n", lines: "a", why: "line too long"},
		{name: "stuffed line at the limit", in: "." + strings.Repeat("x", 18) + "\r\n.\r\n", lines: strings.Repeat("x", 18)},
		{name: "NUL", in: "a\x00\r\nb\r\n.\r\n", lines: "a\x00|b", why: "NUL octet"},
		{name: "too big", in: strings.Repeat("0123456789abcdef\r\n", 4) + ".\r\n", lines: strings.Repeat("0123456789abcdef|", 3)[:3*17-1], why: "message larger than 60 octets"},
	} {
		for _, bulk := range []bool{false, true} {
			lines, d, err := readAll(t, tc.in, tc.lfOnly, bulk)
			if err != nil {
				t.Errorf("%s (bulk %v): %v", tc.name, bulk, err)
				continue
			}
			if lines != tc.lines {
				t.Errorf("%s (bulk %v): passed on %q, want %q", tc.name, bulk, lines, tc.lines)
			}
			_, why := d.refusal()
			if tc.why == "" && why != "" || !strings.HasPrefix(why, tc.why) {
				t.Errorf("%s (bulk %v): refusal %q, want %q", tc.name, bulk, why, tc.why)
			}
		}
	}
}

// TestDataReaderUnexpectedEnd: a connection that ends inside the text is
// an error, never the end of the text.
func TestDataReaderUnexpectedEnd(t *testing.T) {
	_, _, err := readAll(t, "a\r\nb\r\n", false, true)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
	}
}

// TestConnectionLostInsideData: a client whose connection ends inside the
// message text, in either kind of session and with or without a partial
// last line, gets nothing queued, and the trace says why.
func TestConnectionLostInsideData(t *testing.T) {
	for _, in := range []string{
		"EHLO a\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<bob@mailx.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n",
		"EHLO a\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<bob@mailx.test>\r\nDATA\r\nSubject: x\r\n\r\nhi",
		"HELO a\nMAIL FROM:<a@b.test>\nRCPT TO:<bob@mailx.test>\nDATA\nhi\n",
	} {
		q := &fakeQueue{}
		var trace []string
		srv := New(Config{Hostname: "mx.mailx.test", Directory: testDirVal, Queue: q,
			Trace: func(e transcript.Event) { trace = append(trace, e.Line) }})
		c := &memConn{in: bytes.NewReader([]byte(in))}
		newSession(srv, c, access.AddrOf(c.RemoteAddr())).run()
		if n := len(q.messages()); n != 0 {
			t.Errorf("%q: %d messages queued, want none", in, n)
		}
		if !slices.Contains(trace, "connection lost inside DATA: nothing queued") {
			t.Errorf("%q: the trace does not say the connection was lost: %q", in, trace)
		}
		if q.aborted != 1 {
			t.Errorf("%q: %d messages aborted, want 1", in, q.aborted)
		}
	}
}
