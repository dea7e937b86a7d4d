package cmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mailx-edu/mailx/proto/testkit"
)

const (
	crepeEML      = "../proto/mime/testdata/crepe.eml"
	newsletterEML = "../proto/mime/testdata/newsletter.eml"
)

// runMain runs mailx in-process with args and stdin, returning the exit
// code, stdout and stderr.
func runMain(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ios, out, errOut := TestIO(stdin)
	code := Main(args, ios)
	return code, out.String(), errOut.String()
}

func TestMimeDecodeFlags(t *testing.T) {
	cases := []struct {
		args []string
		want mimeDecodeOptions
		code int
	}{
		{[]string{"m.eml"}, mimeDecodeOptions{File: "m.eml"}, 0},
		{[]string{"m.eml", "--part", "1.2", "--raw"}, mimeDecodeOptions{File: "m.eml", Part: "1.2", Raw: true}, 0},
		{[]string{"--extract", "out", "--json"}, mimeDecodeOptions{Extract: "out", JSON: true}, 0},
		{[]string{"a", "b"}, mimeDecodeOptions{}, ExitUsage},
		{[]string{"m.eml", "--part", "1", "--json"}, mimeDecodeOptions{}, ExitUsage},
		{[]string{"m.eml", "--part", "1", "--extract", "d"}, mimeDecodeOptions{}, ExitUsage},
		{[]string{"--bogus"}, mimeDecodeOptions{}, ExitUsage},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			ios, _, _ := TestIO("")
			var got *mimeDecodeOptions
			c := newMimeDecodeCmd(ios, func(ctx context.Context, o *mimeDecodeOptions) error { got = o; return nil })
			c.SetArgs(tc.args)
			c.SetOut(&bytes.Buffer{})
			c.SetErr(&bytes.Buffer{})
			err := c.Execute()
			if tc.code != 0 {
				if err == nil {
					t.Fatalf("accepted %v", tc.args)
				}
				return
			}
			if err != nil || got == nil {
				t.Fatalf("err %v", err)
			}
			got.IO = nil
			if *got != tc.want {
				t.Errorf("opts = %+v, want %+v", *got, tc.want)
			}
		})
	}
}

func TestMimeDecodeGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"mime/decode-crepe.golden", []string{"mime", "decode", crepeEML}},
		{"mime/decode-newsletter.golden", []string{"mime", "decode", newsletterEML}},
		{"mime/decode-newsletter-raw-part1.golden", []string{"mime", "decode", newsletterEML, "--part", "1", "--raw"}},
		{"mime/decode-crepe-raw.golden", []string{"mime", "decode", crepeEML, "--raw"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, errOut := runMain(t, "", tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			testkit.Golden(t, "testdata/"+tc.golden, []byte(out))
		})
	}
}

func TestMimeDecodeJSON(t *testing.T) {
	code, out, errOut := runMain(t, "", "mime", "decode", newsletterEML, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v struct {
		Headers []struct{ Name, Raw, Decoded string }
		Hops    []struct{ N int }
		Body    struct {
			ContentType string `json:"content_type"`
			Parts       []struct {
				Number      string
				Encoding    string
				DecodedSize int64 `json:"decoded_size"`
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(v.Hops) != 3 || v.Body.ContentType != "multipart/alternative" || len(v.Body.Parts) != 2 || v.Body.Parts[0].Encoding != "quoted-printable" {
		t.Errorf("unexpected JSON: %+v", v)
	}
	found := false
	for _, h := range v.Headers {
		if h.Name == "Subject" && h.Decoded == "Vote for your favourite café ☕" && strings.HasPrefix(h.Raw, "=?UTF-8?Q?") {
			found = true
		}
	}
	if !found {
		t.Errorf("Subject raw and decoded missing: %+v", v.Headers)
	}
}

func TestMimeDecodePart(t *testing.T) {
	code, out, _ := runMain(t, "", "mime", "decode", crepeEML, "--part", "2")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	raw, _ := os.ReadFile(crepeEML)
	b64 := string(raw[bytes.Index(raw, []byte("/9j/")):bytes.LastIndex(raw, []byte("--98766789--"))])
	want, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(b64, "\n", ""))
	if err != nil || out != string(want) {
		t.Errorf("--part 2 gave %d bytes, want the %d bytes of the JPEG (%v)", len(out), len(want), err)
	}
	if code, out, _ := runMain(t, "", "mime", "decode", newsletterEML, "--part", "1"); code != 0 || !strings.HasPrefix(out, "\uFEFFEat, shop") {
		t.Errorf("--part 1: exit %d, %q", code, out)
	}
	code, _, errOut := runMain(t, "", "mime", "decode", crepeEML, "--part", "7")
	if code != ExitFailure || !strings.Contains(errOut, "no part 7") || !strings.Contains(errOut, "1, 2") {
		t.Errorf("--part 7: exit %d, %q", code, errOut)
	}
	// A binary part is not written onto a terminal.
	ios, out2, errOut2 := TestIO("")
	ios.StdoutTTY = true
	if code := Main([]string{"mime", "decode", crepeEML, "--part", "2"}, ios); code != ExitFailure ||
		out2.Len() != 0 || !strings.Contains(errOut2.String(), "garble the terminal") {
		t.Errorf("binary to TTY: exit %d, out %d bytes, err %q", code, out2.Len(), errOut2)
	}
}

func TestMimeDecodeExtract(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	evil := "From: a@b.c\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nhello\n--b\n" +
		"Content-Type: text/plain\nContent-Disposition: attachment; filename=\"../../evil.txt\"\n\nnot outside\n--b--\n"
	for i, wantName := range []string{"evil.txt", "evil (1).txt"} {
		code, out, errOut := runMain(t, evil, "mime", "decode", "--extract", dir)
		if code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, code, errOut)
		}
		path := filepath.Join(dir, wantName)
		if b, err := os.ReadFile(path); err != nil || string(b) != "not outside" {
			t.Errorf("run %d: %s: %q %v", i, path, b, err)
		}
		if !strings.Contains(out, "ok: part 2: wrote "+path+" (11 bytes)") {
			t.Errorf("run %d: output does not report %s:\n%s", i, path, out)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(filepath.Dir(dir)), "evil.txt")); err == nil {
		t.Error("wrote outside the directory")
	}
	code, out, _ := runMain(t, "", "mime", "decode", crepeEML, "--extract", dir)
	if b, err := os.ReadFile(filepath.Join(dir, "part-2.jpg")); code != 0 || err != nil || !bytes.HasPrefix(b, []byte{0xff, 0xd8}) {
		t.Errorf("crepe picture not extracted as part-2.jpg: exit %d %v\n%s", code, err, out)
	}
}

func TestMimeDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		stderr      string
	}{
		{"missing file", "", []string{"mime", "decode", "no-such.eml"}, ExitFailure, "cannot open no-such.eml: no such file"},
		{"not a message", "\x89PNG\r\n\x1a\nbinary", []string{"mime", "decode", "-"}, ExitFailure, "does not look like an e-mail message"},
		{"empty", "", []string{"mime", "decode"}, ExitFailure, "is empty"},
		{"bad flag", "", []string{"mime", "decode", "--nope"}, ExitUsage, "unknown flag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runMain(t, tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.stderr)
			}
		})
	}
}

func TestMimeEncode(t *testing.T) {
	dir := t.TempDir()
	pic := filepath.Join(dir, "crêpe.jpg")
	os.WriteFile(pic, []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01 pretend picture \xff\xd9"), 0o644)
	notes := filepath.Join(dir, "notes.dat")
	os.WriteFile(notes, []byte("Batter: flour, eggs, milk.\n"), 0o644)
	args := []string{"mime", "encode", "--from", "Alice <alice@crepes.fr>", "--to", "bob@hamburger.edu", "--subject", "Picture of yummy crêpe",
		"--text", "Dear Bob,\nPlease find a picture of a crêpe.\n", "--attach", pic, "--attach", notes + ";type=text/plain;name=recipe.txt",
		"--header", "Reply-To: Alice <alice@crepes.fr>", "--date", "Fri, 01 Mar 2024 12:00:00 +0000", "--message-id", "<crepe-1@crepes.fr>"}
	code, out, errOut := runMain(t, "", append(args, "--explain")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	testkit.Golden(t, "testdata/mime/encode-explain.golden", []byte(out))

	// The message itself decodes back to what went in.
	code, msg, errOut := runMain(t, "", args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	testkit.Golden(t, "testdata/mime/encode-crepe.eml", []byte(msg))
	code, out, _ = runMain(t, msg, "mime", "decode", "-", "--part", "1")
	if code != 0 || out != "Dear Bob,\nPlease find a picture of a crêpe.\n" {
		t.Errorf("text part: exit %d %q", code, out)
	}
	code, out, _ = runMain(t, msg, "mime", "decode", "-", "--part", "3")
	if code != 0 || out != "Batter: flour, eggs, milk.\n" {
		t.Errorf("recipe part: exit %d %q", code, out)
	}

	// -o writes a file with CRLF line ends.
	file := filepath.Join(dir, "out.eml")
	code, _, errOut = runMain(t, "", append(args, "--crlf", "-o", file)...)
	b, _ := os.ReadFile(file)
	if code != 0 || !strings.Contains(errOut, "wrote "+file) || bytes.Count(b, []byte("\r\n")) != bytes.Count(b, []byte("\n")) {
		t.Errorf("-o --crlf: exit %d, %q, %d CRLF of %d LF", code, errOut, bytes.Count(b, []byte("\r\n")), bytes.Count(b, []byte("\n")))
	}

	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"mime", "encode", "--to", "b@c.d"}, ExitUsage, "--from and --to are required"},
		{[]string{"mime", "encode", "--from", "nobody", "--to", "b@c.d"}, ExitUsage, "From address"},
		{[]string{"mime", "encode", "--from", "a@b.c", "--to", "b@c.d", "--attach", filepath.Join(dir, "missing.pdf")}, ExitFailure, "cannot attach"},
		{[]string{"mime", "encode", "--from", "a@b.c", "--to", "b@c.d", "--header", "Content-Type: text/html"}, ExitUsage, "written by mailx"},
		{[]string{"mime", "encode", "--from", "a@b.c", "--to", "b@c.d", "--date", "tomorrow"}, ExitUsage, "not a date"},
	} {
		code, _, errOut := runMain(t, "", tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tc.args[2:], code, errOut, tc.code, tc.stderr)
		}
	}
}

func TestMimeCodecs(t *testing.T) {
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
		out   string
	}{
		{"\x00alice\x00secret", []string{"mime", "b64", "encode", "--wrap", "0"}, 0, "AGFsaWNlAHNlY3JldA==\n"},
		{"RGVhciBC\n b2Is\n", []string{"mime", "b64", "decode"}, 0, "Dear Bob,"},
		{"RGVh*iBC", []string{"mime", "b64", "decode"}, ExitFailure, ""},
		{"Café = coffee\n", []string{"mime", "qp", "encode"}, 0, "Caf=C3=A9 =3D coffee\n"},
		{"Caf=C3=A9 =3D cof=\nfee\n", []string{"mime", "qp", "decode"}, 0, "Café = coffee\n"},
		{"", []string{"mime", "words", "encode", "Crêpes à Paris"}, 0, "Subject: =?utf-8?q?Cr=C3=AApes_=C3=A0?= Paris\n"},
		{"", []string{"mime", "words", "decode", "=?ISO-8859-1?Q?Andr=E9?= Pirard"}, 0, "André Pirard\n"},
		{"=?koi8-r?b?8NLJ18XU?=\n", []string{"mime", "words", "decode"}, 0, "Привет\n"},
		{"", []string{"mime", "words", "decode", "=?x-nope?q?a?="}, ExitFailure, "=?x-nope?q?a?=\n"},
	} {
		code, out, errOut := runMain(t, tc.stdin, tc.args...)
		if code != tc.code || (tc.out != "" && out != tc.out) {
			t.Errorf("%v <<%q: exit %d, out %q, err %q; want %d, %q", tc.args[1:], tc.stdin, code, out, errOut, tc.code, tc.out)
		}
	}
}

// TestMimeBinary drives the built binary through pipes: encode into
// decode, and the exit codes a script sees.
func TestMimeBinary(t *testing.T) {
	bin := buildBinary(t)
	enc := exec.Command(bin, "mime", "encode", "--from", "alice@crepes.fr", "--to", "bob@hamburger.edu", "--subject", "Crêpe", "--text", "Dear Bob")
	dec := exec.Command(bin, "mime", "decode")
	pipe, err := enc.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	dec.Stdin = pipe
	var out, errOut bytes.Buffer
	dec.Stdout, dec.Stderr = &out, &errOut
	if err := enc.Start(); err != nil {
		t.Fatal(err)
	}
	if err := dec.Run(); err != nil {
		t.Fatalf("decode: %v: %s", err, errOut.String())
	}
	if err := enc.Wait(); err != nil {
		t.Fatalf("encode: %v", err)
	}
	if !strings.Contains(out.String(), "decoded: Crêpe") || !strings.Contains(out.String(), "| Dear Bob") || strings.Contains(out.String(), "\x1b[") {
		t.Errorf("decode output:\n%s", out.String())
	}
	for _, tc := range []struct {
		args  []string
		stdin string
		code  int
		msg   string
	}{
		{[]string{"mime", "decode", filepath.Join(t.TempDir(), "missing.eml")}, "", 1, "no such file"},
		{[]string{"mime", "decode"}, "just some words\nno header here\n", 1, "does not look like an e-mail message"},
		{[]string{"mime", "decode", "--part"}, "", 2, "needs an argument"},
		{[]string{"mime", "decode", crepeEML}, "", 0, ""},
	} {
		c := exec.Command(bin, tc.args...)
		c.Stdin = strings.NewReader(tc.stdin)
		var stderr bytes.Buffer
		c.Stderr = &stderr
		err := c.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.msg)
		}
	}
}

// TestMimeDecodeIssue19 covers what new users tripped on: the README's
// encode | decode pair warned about smuggling, a directory was called
// "empty", a Latin-1 header reached the terminal as invalid UTF-8 with Go's
// own error wording, and a bounce's delivery-status part was called a
// nesting problem.
func TestMimeDecodeIssue19(t *testing.T) {
	enc, stderr, code := runMailx(t, "", "mime", "encode", "--from", "a@example.org", "--to", "b@example.org", "--text", "hi")
	if code != 0 {
		t.Fatalf("encode: exit %d %s", code, stderr)
	}
	out, _, code := runMailx(t, enc, "mime", "decode")
	if code != 0 || strings.Contains(out, "warning") || strings.Contains(out, "smuggle") {
		t.Errorf("encode | decode: exit %d, warnings:\n%s", code, out)
	}

	dir := t.TempDir()
	_, stderr, code = runMailx(t, "", "mime", "decode", dir)
	if code != ExitUsage || !strings.Contains(stderr, "is a directory") || strings.Contains(stderr, "empty") {
		t.Errorf("decode DIR: exit %d, stderr %q", code, stderr)
	}

	latin := filepath.Join(dir, "latin1.eml")
	os.WriteFile(latin, []byte("From: Ren\xe9 <rene@example.org>\r\nSubject: caf\xe9\r\nDate: Fri, 01 Mar 2024 12:00:00 +0000\r\nMessage-ID: <1@b>\r\n\r\nhi\r\n"), 0o644)
	out, _, code = runMailx(t, "", "mime", "decode", latin)
	if code != 0 || !utf8.ValidString(out) || !strings.Contains(out, `caf\xE9`) || strings.Contains(out, "mail: ") || !strings.Contains(out, "not UTF-8") {
		t.Errorf("Latin-1 header: exit %d, valid UTF-8 %v:\n%s", code, utf8.ValidString(out), out)
	}

	out, _, code = runMailx(t, "", "mime", "decode", "../proto/mime/testdata/bounces/postfix.eml")
	for _, w := range []string{"Reporting-MTA: mail.example.org", "Final-Recipient: bob@example.net", "Action: failed", "Status: 5.1.1  (permanent failure: the mailbox does not exist)", "Diagnostic-Code: smtp; 550 5.1.1"} {
		if !strings.Contains(out, w) {
			t.Errorf("Postfix bounce: no %q in\n%s", w, out)
		}
	}
	if code != 0 || strings.Contains(out, "warning") {
		t.Errorf("Postfix bounce: exit %d, with a warning:\n%s", code, out)
	}
}

// TestMimeEncodeNameFallback: a non-ASCII attachment name is written both
// in RFC 2231 form (filename*= of Content-Disposition, for readers that
// follow the RFCs) and as RFC 2047 encoded-words in the name= parameter of
// Content-Type (what Thunderbird and Outlook write, for readers that look
// only there). Python's email package (python3) reads the name back.
func TestMimeEncodeNameFallback(t *testing.T) {
	dir := t.TempDir()
	att := filepath.Join(dir, "café.txt")
	os.WriteFile(att, []byte("un café\n"), 0o644)
	msg, stderr, code := runMailx(t, "", "mime", "encode", "--from", "a@example.org", "--to", "b@example.org", "--text", "see attached", "--attach", att+";type=application/octet-stream")
	if code != 0 {
		t.Fatalf("encode: exit %d %s", code, stderr)
	}
	if !strings.Contains(msg, `filename*=utf-8''caf%C3%A9.txt`) || !strings.Contains(msg, `name="=?utf-8?b?Y2Fmw6kudHh0?="`) {
		t.Errorf("the name is not in both forms:\n%s", msg)
	}
	python := testkit.NeedCommand(t, "python3", "python3") // reads the name back with Python's email package
	c := exec.Command(python, "-c", `import sys, email
from email import policy
m = email.message_from_string(sys.stdin.read(), policy=policy.default)
print([p.get_filename() for p in m.iter_attachments()])
print([str(p['Content-Type'].params.get('name')) for p in m.iter_attachments()])`)
	c.Stdin = strings.NewReader(msg)
	out, err := c.CombinedOutput()
	if err != nil || strings.Count(string(out), "'café.txt'") != 2 {
		t.Errorf("python3 reads %q (%v), want café.txt from both fields", out, err)
	}
}
