package explore

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/proto/pop3"
)

// These tests drive pop3.ReadResponse through the explorer's Wire, the
// reader every live session and replay uses.

func pop3Wire(s string, lim Limits) *Wire { return NewWire(strings.NewReader(s), lim) }

func TestPOP3ReplyHelpersRoundTrip(t *testing.T) {
	for _, r := range []pop3.Response{
		pop3.OK("maildrop has 2 messages"),
		pop3.Err("no such message"),
		pop3.ErrCode("in-use", "another session has the maildrop"),
		pop3.OKMulti("2 messages", []string{"1 120", "2 200"}),
		pop3.OKMulti("message follows", []string{"Subject: dots", "", ".", "..two", "end"}),
		pop3.OKMulti("empty", nil),
	} {
		wire := r.Wire()
		got, err := pop3.ReadResponse(pop3Wire(strings.Join(wire, "\r\n")+"\r\n", Limits{}), r.Multi, pop3.DefaultLimits)
		if err != nil {
			t.Fatalf("ReadResponse(%q): %v", wire, err)
		}
		if got.StatusLine() != r.StatusLine() || !reflect.DeepEqual(got.Raw, wire) || got.Code != r.Code {
			t.Errorf("round trip of %q: got %+v", wire, got)
		}
		if r.Multi && len(got.Lines)+len(r.Lines) > 0 && !reflect.DeepEqual(got.Lines, r.Lines) {
			t.Errorf("round trip of %q: lines %q, want %q", wire, got.Lines, r.Lines)
		}
	}
	if got := pop3.ErrCode("in-use", "x").Error(); got != "-ERR [IN-USE] x" {
		t.Errorf("ErrCode().Error() = %q", got)
	}
}

func TestPOP3ReadMultiLineStuffed(t *testing.T) {
	w := pop3Wire("+OK 64 octets\r\nSubject: x\r\n\r\n..\r\n...dots\r\n.\r\n+OK next\n", Limits{})
	r, err := pop3.ReadResponse(w, true, pop3.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Subject: x", "", ".", "..dots"}; !reflect.DeepEqual(r.Lines, want) {
		t.Errorf("Lines = %q, want %q", r.Lines, want)
	}
	if want := []string{"+OK 64 octets", "Subject: x", "", "..", "...dots", "."}; !reflect.DeepEqual(r.Raw, want) {
		t.Errorf("Raw = %q, want %q", r.Raw, want)
	}
	if r.Unstuffed != 2 {
		t.Errorf("Unstuffed = %d, want 2", r.Unstuffed)
	}
	if w.BareLF() {
		t.Errorf("BareLF after CRLF lines")
	}
	r2, err := pop3.ReadResponse(w, false, pop3.DefaultLimits)
	if err != nil || r2.Text != "next" || !w.BareLF() {
		t.Errorf("second response = %+v, %v, bareLF %v; want \"next\" ended by a bare LF", r2, err, w.BareLF())
	}
	if _, err := pop3.ReadResponse(w, false, pop3.DefaultLimits); err != io.EOF {
		t.Errorf("at end: err = %v, want io.EOF", err)
	}
}

func TestPOP3ReadErrors(t *testing.T) {
	// -ERR is single-line even when the command's +OK would be multi-line.
	w := pop3Wire("-ERR no such message\r\n+OK\r\n", Limits{})
	if r, err := pop3.ReadResponse(w, true, pop3.DefaultLimits); err != nil || r.Status != pop3.StatusErr || r.Multi {
		t.Errorf("-ERR to RETR: %+v, %v", r, err)
	}
	// Early close inside a multi-line response keeps what arrived.
	r, err := pop3.ReadResponse(pop3Wire("+OK\r\n1 100\r\n2 20", Limits{}), true, pop3.DefaultLimits)
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(r.Raw) != 3 || r.Raw[2] != "2 20" {
		t.Errorf("early close: %+v, %v", r, err)
	}
	// A line beyond the wire's limit.
	if _, err := pop3.ReadResponse(pop3Wire("+OK "+strings.Repeat("x", 100)+"\r\n", Limits{Line: 50}), false, pop3.DefaultLimits); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("long line: err = %v, want ErrLineTooLong", err)
	}
	// A response beyond the total limit.
	long := "+OK\r\n" + strings.Repeat("line\r\n", 100) + ".\r\n"
	if _, err := pop3.ReadResponse(pop3Wire(long, Limits{}), true, pop3.Limits{Response: 200}); !errors.Is(err, pop3.ErrResponseTooLong) {
		t.Errorf("long response: err = %v, want ErrResponseTooLong", err)
	}
	// Not POP3 at all.
	if r, err := pop3.ReadResponse(pop3Wire("220 smtp.example ESMTP\r\n", Limits{}), false, pop3.DefaultLimits); err == nil || len(r.Raw) != 1 {
		t.Errorf("SMTP banner: %+v, %v; want error with the raw line", r, err)
	}
}
