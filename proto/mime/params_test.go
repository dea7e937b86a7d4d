package mime

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestRFC2231 reads RFC 2231 parameters in charsets other than UTF-8, with
// continuations, as Python's email package and mutt do.
func TestRFC2231(t *testing.T) {
	for _, tc := range []struct {
		name, in, param, want string
	}{
		{"latin-1", `attachment; filename*=iso-8859-1''caf%E9.txt`, "filename", "café.txt"},
		{"continued, encoded first", `attachment; filename*0*=iso-8859-1'de'caf%E9; filename*1=.txt`, "filename", "café.txt"},
		{"utf-8", `attachment; filename*=UTF-8''cr%C3%AApe.pdf`, "filename", "crêpe.pdf"},
		{"windows-1252", `attachment; filename*=windows-1252''%93quoted%94.txt`, "filename", "\u201cquoted\u201d.txt"},
		{"koi8-r", `attachment; filename*=koi8-r''%D0%D2%C9%D7%C5%D4.txt`, "filename", "привет.txt"},
		{"quoted continuation", `attachment; filename*0="long name "; filename*1="in two.txt"`, "filename", "long name in two.txt"},
		{"out of order", `attachment; filename*1*=%E9.txt; filename*0*=iso-8859-1''caf`, "filename", "café.txt"},
		{"language kept out", `text/plain; name*=iso-8859-15'fr'%A4uro.txt`, "name", "€uro.txt"},
		{"plain stays", `attachment; filename="plain.txt"`, "filename", "plain.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, params, err := ParseMediaType(tc.in)
			if err != nil {
				t.Fatalf("ParseMediaType(%q): %v", tc.in, err)
			}
			if got := params[tc.param]; got != tc.want {
				t.Errorf("ParseMediaType(%q)[%s] = %q, want %q", tc.in, tc.param, got, tc.want)
			}
		})
	}
	// A part named that way gets its name in the tree, and --extract's
	// safe name keeps it.
	msg := hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n" +
		"Content-Disposition: attachment; filename*0*=iso-8859-1'de'caf%E9; filename*1=.txt\r\n\r\nhi\r\n--b--\r\n"
	tree, err := Parse(strings.NewReader(msg), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := tree.Find("1")
	if p == nil || p.Filename != "café.txt" || SafeFilename(p.Filename, "1", p.ContentType) != "café.txt" {
		t.Errorf("part 1 = %+v, want file name café.txt", p)
	}
	if _, err := DecodeRFC2231(`a; filename*=x-unknown''%41`); err == nil || !strings.Contains(err.Error(), "unknown charset") {
		t.Errorf("unknown charset: err = %v", err)
	}
}

// TestSafeFilenameHostile: names that disguise a file or attack the next
// command are made harmless by --extract.
func TestSafeFilenameHostile(t *testing.T) {
	for in, want := range map[string]string{
		"invoice\u202Efdp.exe": "invoicefdp.exe",
		"-rf":                  "_-rf",
		"--help.txt":           "_--help.txt",
		"../../etc/passwd":     "passwd",
		"a\u2066b\u2069.txt":   "ab.txt",
	} {
		if got := SafeFilename(in, "2", "application/octet-stream"); got != want {
			t.Errorf("SafeFilename(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzDecodeRFC2231: any header value decodes without panicking, to
// valid UTF-8, and never to more parameters than the value names.
func FuzzDecodeRFC2231(f *testing.F) {
	for _, s := range []string{
		`attachment; filename*=iso-8859-1''caf%E9.txt`,
		`attachment; filename*0*=iso-8859-1'de'caf%E9; filename*1=.txt`,
		`a; x*0="q\"uo;ted"; x*1*=%zz; x*2=%`,
		`a; n*999*=%41; n*0*=utf-8''b`,
		`a; *=x; n*=''; n**=3`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		params, _ := DecodeRFC2231(v)
		if len(params) > strings.Count(v, "*") {
			t.Fatalf("%d parameters from %d stars", len(params), strings.Count(v, "*"))
		}
		for k, val := range params {
			if !utf8.ValidString(val) {
				t.Fatalf("parameter %q = %q: not UTF-8", k, val)
			}
		}
		ParseMediaType(v)
	})
}
