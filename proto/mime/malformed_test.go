package mime

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

const hdr = "From: a@b.c\r\nDate: Fri, 01 Mar 2024 12:00:00 +0000\r\nMessage-ID: <1@b.c>\r\nMIME-Version: 1.0\r\n"

// partWarnings collects every warning in the tree, message and parts.
func allWarnings(tree *Tree) string {
	var b strings.Builder
	for _, w := range tree.Warnings {
		b.WriteString(w.Summary + "\n")
	}
	tree.Body.Walk(func(p *Part) {
		for _, w := range p.Warnings {
			fmt.Fprintf(&b, "%s: %s\n", p.Number, w.Summary)
		}
	})
	return b.String()
}

func TestParseMalformed(t *testing.T) {
	cases := []struct {
		name, msg, warn string
		check           func(*testing.T, *Tree, map[string][]byte)
	}{
		{"missing final boundary",
			hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nfirst\r\n--b\r\nContent-Type: text/plain\r\n\r\nsecond, cut",
			"closing boundary", func(t *testing.T, tr *Tree, c map[string][]byte) {
				if string(c["2"]) != "second, cut" {
					t.Errorf("part 2 = %q", c["2"])
				}
			}},
		{"boundary never found",
			hdr + "Content-Type: multipart/mixed; boundary=nowhere\r\n\r\njust text\r\n", "no part found", nil},
		{"no boundary parameter",
			hdr + "Content-Type: multipart/mixed\r\n\r\ntext\r\n", "without a boundary", nil},
		{"unknown charset",
			hdr + "Content-Type: text/plain; charset=x-klingon\r\n\r\nqapla'\r\n", "unknown charset", nil},
		{"bad base64",
			hdr + "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\nRE*F\r\n", "bad base64 at encoded character 6",
			func(t *testing.T, tr *Tree, c map[string][]byte) {
				if !bytes.HasPrefix(c["1"], []byte("ABC")) {
					t.Errorf("decoded %q, want it to start with ABC", c["1"])
				}
			}},
		{"bad quoted-printable", hdr + "Content-Transfer-Encoding: quoted-printable\r\n\r\nab=\x01\r\n", "bad quoted-printable", nil},
		{"bare LF", strings.ReplaceAll(hdr, "\r\n", "\n") + "\nbody\n", "bare LF", nil},
		{"mixed line ends", hdr + "\r\nbody\nmore\r\n", "mixed line ends", nil},
		{"8bit in 7bit", hdr + "Content-Type: text/plain; charset=utf-8\r\n\r\ncrêpe\r\n", "above 127 in a part declared 7bit", nil},
		{"unknown transfer encoding", hdr + "Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n", "unknown Content-Transfer-Encoding", nil},
		{"bad content type", hdr + "Content-Type: ;;;\r\n\r\nx\r\n", "cannot be parsed", nil},
		{"not a header line", "From: a@b.c\r\nthis is not a field\r\n\r\nbody\r\n", "not a header field", nil},
		{"long line", hdr + "\r\n" + strings.Repeat("x", 1200) + "\r\n", "more than the 998", nil},
		{"duplicate From", hdr + "From: c@d.e\r\n\r\nx\r\n", "2 From fields", nil},
		{"bad date", "From: a@b.c\r\nDate: yesterday\r\nMessage-ID: <1@b>\r\n\r\nx\r\n", "cannot be read as an RFC 5322 date", nil},
		{"bad encoded-word", hdr + "Subject: =?x-unknown?q?abc?=\r\n\r\nx\r\n", "cannot be decoded", nil},
		{"no MIME-Version", "From: a@b.c\r\nDate: Fri, 01 Mar 2024 12:00:00 +0000\r\nMessage-ID: <1@b.c>\r\nContent-Type: text/plain\r\n\r\nx\r\n", "without MIME-Version", nil},
		{"depth limit", hdr + "Content-Type: multipart/mixed; boundary=b0\r\n\r\n" + nested(30), "nesting depth", nil},
		{"part limit", hdr + "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + strings.Repeat("--b\r\n\r\nx\r\n", 1100) + "--b--\r\n", "number of parts", nil},
		{"header size limit", hdr + strings.Repeat("X-Filler: "+strings.Repeat("y", 90)+"\r\n", 1200) + "\r\nbody\r\n", "header size",
			func(t *testing.T, tr *Tree, c map[string][]byte) {
				if string(c["1"]) != "body\r\n" {
					t.Errorf("body = %q", c["1"])
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree, content := parseCollect(t, strings.NewReader(tc.msg))
			if w := allWarnings(tree); !strings.Contains(w, tc.warn) {
				t.Errorf("warnings do not mention %q:\n%s", tc.warn, w)
			}
			if tc.check != nil {
				tc.check(t, tree, content)
			}
		})
	}
}

func nested(depth int) string {
	var b strings.Builder
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n", i, i+1)
	}
	b.WriteString("--b" + fmt.Sprint(depth) + "\r\n\r\ndeep\r\n--b" + fmt.Sprint(depth) + "--\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.String()
}

// TestParseCharsets decodes text in the charsets the course's examples and
// real mail use, from base64 so the bytes travel untouched.
func TestParseCharsets(t *testing.T) {
	for _, tc := range []struct {
		charset string
		enc     transform.Transformer
		text    string
	}{
		{"ISO-8859-1", charmap.ISO8859_1.NewEncoder(), "Chère Zoë, une crêpe ?"},
		{"iso-8859-15", charmap.ISO8859_15.NewEncoder(), "Prix : 5 €"},
		{"windows-1252", charmap.Windows1252.NewEncoder(), "“quoted” – dash €"},
		{"windows-1251", charmap.Windows1251.NewEncoder(), "Привет, Боб"},
		{"KOI8-R", charmap.KOI8R.NewEncoder(), "Привет, Боб"},
		{"GB2312", simplifiedchinese.GBK.NewEncoder(), "你好，鲍勃"},
		{"GBK", simplifiedchinese.GBK.NewEncoder(), "你好，鲍勃"},
		{"Shift_JIS", japanese.ShiftJIS.NewEncoder(), "こんにちは、ボブ"},
		{"ISO-2022-JP", japanese.ISO2022JP.NewEncoder(), "こんにちは、ボブ"},
		{"EUC-KR", korean.EUCKR.NewEncoder(), "안녕하세요 밥"},
		{"utf-8", transform.Nop, "Crêpe ☕"},
	} {
		t.Run(tc.charset, func(t *testing.T) {
			b, _, err := transform.Bytes(tc.enc, []byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			msg := hdr + "Content-Type: text/plain; charset=" + tc.charset + "\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
				base64Lines(b)
			tree, _ := parseCollect(t, strings.NewReader(msg))
			if tree.Body.Preview != tc.text {
				t.Errorf("preview = %q, want %q (warnings: %s)", tree.Body.Preview, tc.text, allWarnings(tree))
			}
			s, ok := DecodeCharset(b, tc.charset)
			if !ok || s != tc.text {
				t.Errorf("DecodeCharset = %q, %v", s, ok)
			}
		})
	}
}

func base64Lines(b []byte) string {
	var out bytes.Buffer
	w := &lineWrapper{w: &out, width: 76}
	enc := base64.NewEncoder(base64.StdEncoding, w)
	enc.Write(b)
	enc.Close()
	w.end()
	return out.String()
}

func TestEncodedWordsInCharsets(t *testing.T) {
	for in, want := range map[string]string{
		"=?ISO-8859-1?Q?Andr=E9?= Pirard":            "André Pirard",
		"=?KOI8-R?B?8NLJ18XU?=":                      "Привет",
		"=?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=": "こんにちは",
		"=?utf-8?q?a?= =?utf-8?q?b?=":                "ab",
	} {
		if got, err := DecodeWords(in); err != nil || got != want {
			t.Errorf("DecodeWords(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestSafeFilename(t *testing.T) {
	for _, tc := range []struct{ in, num, typ, want string }{
		{"crepe.jpg", "2", "image/jpeg", "crepe.jpg"},
		{"../../etc/passwd", "2", "text/plain", "passwd"},
		{`C:\Windows\evil.exe`, "2", "", "evil.exe"},
		{"..", "3", "image/png", "part-3.png"},
		{"", "1.2", "application/pdf", "part-1-2.pdf"},
		{"a<b>c:d|e?.txt", "1", "", "a_b_c_d_e_.txt"},
		{"CON.txt", "1", "", "_CON.txt"},
		{".hidden", "1", "", "hidden"},
		{"line\r\nbreak.txt", "1", "", "linebreak.txt"},
	} {
		if got := SafeFilename(tc.in, tc.num, tc.typ); got != tc.want {
			t.Errorf("SafeFilename(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEnclosedMessage(t *testing.T) {
	inner := "From: c@d.e\r\nSubject: =?utf-8?q?inn=C3=A9r?=\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\n--i\r\n\r\none\r\n--i\r\n\r\ntwo\r\n--i--\r\n"
	msg := hdr + "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n\r\nsee below\r\n--o\r\nContent-Type: message/rfc822\r\n\r\n" + inner + "--o--\r\n"
	tree, content := parseCollect(t, strings.NewReader(msg))
	if got := tree.Find("2"); got == nil || got.Message == nil || Get(got.Message, "Subject") != "innér" {
		t.Fatalf("part 2 = %+v", got)
	}
	if string(content["2.1"]) != "one" || string(content["2.2"]) != "two" {
		t.Errorf("enclosed parts = %q", content)
	}
}
