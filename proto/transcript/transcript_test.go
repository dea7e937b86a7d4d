package transcript

import (
	"bytes"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleTranscript() *Transcript {
	return &Transcript{
		Header: Header{Protocol: "smtp", Host: "127.0.0.1", Port: 2525,
			Started: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), TLS: "none", Session: "s1",
			Extra: [][2]string{{"note", "recorded in a test"}}},
		Lines: []Line{
			{Dir: Server, Text: "220 mx.test ESMTP"},
			{Dir: Client, Text: "EHLO me"},
			{Dir: Server, Text: "250-mx.test"},
			{Dir: Server, Text: "250 PIPELINING"},
			{Dir: Meta, Text: "tls: TLS 1.3"},
			{Dir: Client, Text: "smuggled\n.\nMAIL FROM:<x@y>"},
			{Dir: Client, Text: "bare\rCR and tab\t"},
			{Dir: Client, Text: ""},
			{Dir: Client, Text: "C: looks like a marker"},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	want := sampleTranscript()
	var b bytes.Buffer
	if err := writeAll(want, &b); err != nil {
		t.Fatal(err)
	}
	got, err := Read(&b)
	if err != nil {
		t.Fatalf("Read: %v\n%s", err, b.String())
	}
	for i := range got.Lines {
		got.Lines[i].Num = 0
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestFileFormat(t *testing.T) {
	var b bytes.Buffer
	if err := writeAll(sampleTranscript(), &b); err != nil {
		t.Fatal(err)
	}
	want := `# mailx transcript v1
# protocol: smtp
# host: 127.0.0.1
# port: 2525
# started: 2026-11-22T10:00:00Z
# tls: none
# session: s1
# note: recorded in a test
S: 220 mx.test ESMTP
C: EHLO me
S: 250-mx.test
S: 250 PIPELINING
# tls: TLS 1.3
C! "smuggled\n.\nMAIL FROM:<x@y>"
C! "bare\rCR and tab\t"
C: 
C: C: looks like a marker
`
	if b.String() != want {
		t.Errorf("file =\n%s\nwant\n%s", b.String(), want)
	}
}

func TestReadErrorsNameTheLine(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "line 1: empty file"},
		{"no magic", "C: EHLO\n", "line 1: not a mailx transcript"},
		{"bad marker", magic + "\nS: 220 hi\nX: what\n", `line 3: "X: what" does not start`},
		{"bad port", magic + "\n# port: http\n", "line 2: port"},
		{"bad quote", magic + "\nC! \"unterminated\n", "line 2: escaped line"},
		{"bad time", magic + "\n# started: yesterday\n", "line 2: started"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Read(%q) error = %v, want containing %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestCRLFFileAccepted(t *testing.T) {
	in := strings.ReplaceAll(magic+"\n# protocol: pop3\nS: +OK ready\nC: QUIT\n", "\n", "\r\n")
	tr, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Header.Protocol != "pop3" || len(tr.Lines) != 2 || tr.Lines[0].Text != "+OK ready" || tr.Lines[1].Num != 4 {
		t.Errorf("got %+v", tr)
	}
}

// FuzzRead checks that any file either fails to parse or round-trips through
// Write and Read to the same lines.
func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	writeAll(sampleTranscript(), &b)
	f.Add(b.String())
	f.Add(magic + "\nS: 220 x\nC! \"a\\nb\"\n# event\n")
	f.Add(magic + "\n# port: 99999\n")
	f.Fuzz(func(t *testing.T, in string) {
		tr, err := Read(strings.NewReader(in))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := writeAll(tr, &out); err != nil {
			t.Fatal(err)
		}
		again, err := Read(&out)
		if err != nil {
			t.Fatalf("re-read of written transcript failed: %v\n%s", err, out.String())
		}
		if len(again.Lines) != len(tr.Lines) {
			t.Fatalf("lines %d != %d", len(again.Lines), len(tr.Lines))
		}
		for i := range tr.Lines {
			a, b := tr.Lines[i], again.Lines[i]
			if a.Dir != b.Dir || (a.Dir != Meta && a.Text != b.Text) {
				t.Fatalf("line %d: %+v != %+v", i, a, b)
			}
		}
	})
}

// writeAll writes a whole transcript through the Writer that the explorer,
// the server's trace and the lessons use.
func writeAll(t *Transcript, w io.Writer) error {
	tw, err := NewWriter(w, t.Header)
	if err != nil {
		return err
	}
	for _, l := range t.Lines {
		if err := tw.Write(l.Dir, l.Text); err != nil {
			return err
		}
	}
	return nil
}
