package relay

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	cases := []struct {
		in   string
		code int
		enh  string
		n    int
		err  bool
	}{
		{"250 2.0.0 Ok\r\n", 250, "2.0.0", 1, false},
		{"250-mx.test hi\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 250, "", 3, false},
		{"220 bare LF is tolerated\n", 220, "", 1, false},
		{"250\r\n", 250, "", 1, false},
		{"250-a\r\n251 b\r\n", 0, "", 0, true},
		{"hello\r\n", 0, "", 0, true},
		{"250-never ends\r\n", 0, "", 0, true},
		{"", 0, "", 0, true},
		{strings.Repeat("250-x\r\n", maxReplyLines+1), 0, "", 0, true},
		{"250 " + strings.Repeat("x", maxReplyLine+10) + "\r\n", 0, "", 0, true},
	}
	for _, tc := range cases {
		var raw []string
		r, err := readReply(bufio.NewReaderSize(strings.NewReader(tc.in), 16), func(l string) { raw = append(raw, l) })
		if (err != nil) != tc.err {
			t.Errorf("readReply(%q) error = %v, want error %v", clip(tc.in, 40), err, tc.err)
			continue
		}
		if err == nil && (r.Code != tc.code || r.Enhanced != tc.enh || len(r.Lines) != tc.n || len(raw) != tc.n) {
			t.Errorf("readReply(%q) = %+v (raw %d), want code %d enhanced %q lines %d", clip(tc.in, 40), r, len(raw), tc.code, tc.enh, tc.n)
		}
	}
	if _, err := readReply(bufio.NewReader(strings.NewReader("250 "+strings.Repeat("x", maxReplyLine+10)+"\r\n")), nil); !errors.Is(err, errReplyLineTooLong) {
		t.Errorf("long line error = %v", err)
	}
}

// FuzzReadReply feeds arbitrary server output to the reply reader: it must
// never panic, never return more lines than its limit, and a reply it
// accepts must have a code from 200 to 599 and re-read the same from its
// own wire form.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{
		"250 2.0.0 Ok\r\n", "250-mx.test\r\n250-PIPELINING\r\n250 SIZE 10\r\n", "421 4.3.2 bye\r\n",
		"354 go\n", "550-5.1.1 a\r\n550 5.1.1 b\r\n", "999 x\r\n", "25\r\n", "250-\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReaderSize(strings.NewReader(string(data)), 16)
		for i := 0; i < 4; i++ {
			r, err := readReply(br, nil)
			if err != nil {
				return
			}
			if r.Code < 200 || r.Code > 599 || len(r.Lines) == 0 || len(r.Lines) > maxReplyLines {
				t.Fatalf("accepted reply %+v", r)
			}
			wire := strings.Join(r.Wire(), "\r\n") + "\r\n"
			again, err := readReply(bufio.NewReader(strings.NewReader(wire)), nil)
			if err != nil || again.Code != r.Code || len(again.Lines) != len(r.Lines) {
				t.Fatalf("reply %+v did not survive its wire form %q: %+v, %v", r, wire, again, err)
			}
		}
	})
}
