package explore

import (
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/proto/imap"
)

// These tests drive imap.ReadResponse through the explorer's Wire, the
// reader every live session and replay uses.

func TestIMAPReadResponseLiterals(t *testing.T) {
	body := "Subject: hi\r\n\r\nline {3}\r\n"
	wire := "* 1 FETCH (UID 7 BODY[] {" + strconv.Itoa(len(body)) + "}\r\n" + body + " FLAGS (\\Seen))\r\n" +
		"* LIST () \"/\" {5}\r\nhello\r\n" + "a003 OK done\r\n"
	w := NewWire(strings.NewReader(wire), Limits{})
	r, err := imap.ReadResponse(w, imap.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != "FETCH" || len(r.Literals) != 1 || r.Literals[0] != body {
		t.Fatalf("FETCH response = %+v", r)
	}
	wantRaw := []string{"* 1 FETCH (UID 7 BODY[] {25}", "Subject: hi", "", "line {3}", " FLAGS (\\Seen))"}
	if !reflect.DeepEqual(r.Raw, wantRaw) {
		t.Errorf("Raw = %q, want %q", r.Raw, wantRaw)
	}
	if want := []bool{false, true, true, true, false}; !reflect.DeepEqual(r.InLiteral, want) {
		t.Errorf("InLiteral = %v, want %v", r.InLiteral, want)
	}
	r, err = imap.ReadResponse(w, imap.DefaultLimits)
	if err != nil || r.Type != "LIST" || r.Literals[0] != "hello" || !reflect.DeepEqual(r.Raw, []string{"* LIST () \"/\" {5}", "hello"}) {
		t.Errorf("LIST with a literal name = %+v, %v", r, err)
	}
	r, err = imap.ReadResponse(w, imap.DefaultLimits)
	if err != nil || r.Kind != imap.Tagged || r.Tag != "a003" {
		t.Errorf("tagged = %+v, %v", r, err)
	}
	if _, err := imap.ReadResponse(w, imap.DefaultLimits); err != io.EOF {
		t.Errorf("end: %v", err)
	}
}

func TestIMAPReadResponseErrors(t *testing.T) {
	r, err := imap.ReadResponse(NewWire(strings.NewReader("* 1 FETCH (BODY[] {100}\r\nshort"), Limits{}), imap.DefaultLimits)
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(r.Literals) != 1 || r.Literals[0] != "short" {
		t.Errorf("early close in a literal: %+v, %v", r, err)
	}
	w := NewWire(strings.NewReader("* 1 FETCH (BODY[] {99999999}\r\n"), Limits{})
	if _, err := imap.ReadResponse(w, imap.Limits{Literal: 1000}); !errors.Is(err, imap.ErrLiteralTooLarge) {
		t.Errorf("huge literal: %v", err)
	}
	// The wire refuses a literal above its own limit before reading it.
	w = NewWire(strings.NewReader("* 1 FETCH (BODY[] {5000}\r\n"), Limits{Literal: 1000})
	if _, err := imap.ReadResponse(w, imap.DefaultLimits); !errors.Is(err, ErrLiteralTooLarge) {
		t.Errorf("literal above the wire's limit: %v", err)
	}
	w = NewWire(strings.NewReader(strings.Repeat("x", 300)+"\r\n"), Limits{Line: 100})
	if _, err := imap.ReadResponse(w, imap.DefaultLimits); !errors.Is(err, ErrLineTooLong) {
		t.Errorf("long line: %v", err)
	}
}
