package explore

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzReadSMTPReply feeds arbitrary server bytes to the wire reader and the
// SMTP reply reader: they must never panic, never return a line longer than
// the limit, and every accepted reply must have a code from 200 to 599.
func FuzzReadSMTPReply(f *testing.F) {
	for _, seed := range []string{
		"220 mx.test ESMTP\r\n",
		"250-mx.test\r\n250-PIPELINING\r\n250 SIZE 1000\r\n",
		"250-a\n250 bare LF\n",
		"250-no end\r\n",
		"550 5.1.1 x\r\n250 next\r\n",
		"HTTP/1.1 400 Bad\r\n",
		strings.Repeat("x", 300) + "\r\n",
		"250-a\r\n251 mixed\r\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		limits := Limits{Line: 256, Literal: 1024, ResponseLines: 100}
		w := NewWire(strings.NewReader(string(data)), limits)
		for range 50 {
			resp, err := ReadSMTPReply(w)
			if resp != nil {
				for _, l := range resp.Lines {
					if len(l.Text) > limits.Line+2 {
						t.Fatalf("line of %d octets passed a %d limit", len(l.Text), limits.Line)
					}
				}
			}
			if err != nil {
				if resp != nil && resp.Value != nil {
					t.Fatalf("error %v with a parsed reply", err)
				}
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrLineTooLong) {
					return
				}
				return
			}
			if c := resp.Status; len(c) != 3 || c < "200" || c > "599" {
				t.Fatalf("accepted status %q", c)
			}
			p := NewSMTP()
			p.Annotate(resp)
		}
	})
}

func TestWireReadLine(t *testing.T) {
	w := NewWire(strings.NewReader("one\r\ntwo\nthree\r\r\n"+strings.Repeat("y", 20)+"\r\nlast"), Limits{Line: 10})
	want := []struct {
		line   string
		bareLF bool
		err    error
	}{{"one", false, nil}, {"two", true, nil}, {"three\r", false, nil}, {"yyyyyyyyyy", false, ErrLineTooLong}}
	for _, wt := range want {
		got, err := w.ReadLine()
		if got != wt.line || !errors.Is(err, wt.err) || (err == nil && w.BareLF() != wt.bareLF) {
			t.Fatalf("ReadLine() = %q, %v (bareLF %v); want %q, %v (bareLF %v)", got, err, w.BareLF(), wt.line, wt.err, wt.bareLF)
		}
	}
}

// TestWireLineLimitAtEdges: the limit holds for a line cut off by the end of
// input and for one ended by a bare LF, not only for a CRLF line.
func TestWireLineLimitAtEdges(t *testing.T) {
	for _, in := range []string{strings.Repeat("z", 11), strings.Repeat("z", 12), strings.Repeat("z", 11) + "\n"} {
		w := NewWire(strings.NewReader(in), Limits{Line: 10})
		got, err := w.ReadLine()
		if got != strings.Repeat("z", 10) || !errors.Is(err, ErrLineTooLong) {
			t.Errorf("ReadLine(%q) = %q, %v; want 10 octets and ErrLineTooLong", in, got, err)
		}
	}
	w := NewWire(strings.NewReader(strings.Repeat("z", 10)+"\n"), Limits{Line: 10})
	if got, err := w.ReadLine(); got != strings.Repeat("z", 10) || err != nil {
		t.Errorf("a line of exactly the limit: %q, %v", got, err)
	}
}
