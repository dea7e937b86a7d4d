package imap

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"time"
)

// FuzzSession sends arbitrary client bytes to the IMAP server over
// loopback. The front end in conn.go is ours (line reading, literal
// counting, the STARTTLS takeover, capability rewriting, tracing) and sits
// in front of go-imap: whatever comes, the process must not panic, the
// session must end when the client stops sending, and every line the
// server sends outside a literal must be a response: untagged "*",
// continuation "+", or a tagged status.
func FuzzSession(f *testing.F) {
	for _, s := range []string{
		"a LOGIN alice hungry\r\nb SELECT INBOX\r\nc FETCH 1:* (FLAGS BODY.PEEK[HEADER] BODYSTRUCTURE)\r\nd LOGOUT\r\n",
		"a LOGIN alice hungry\r\nb APPEND INBOX {11}\r\nSubject: x\r\nc SELECT INBOX\r\nd IDLE\r\nDONE\r\ne UID SEARCH ALL\r\n",
		"a LOGIN alice hungry\r\nb APPEND INBOX {5+}\r\nhello\r\nc STORE 1 +FLAGS (\\Deleted)\r\nd EXPUNGE\r\n",
		"a STARTTLS\r\nb LOGIN alice hungry\r\n",
		"a AUTHENTICATE PLAIN\r\nAGFsaWNlAGh1bmdyeQ==\r\nb LIST \"\" *\r\nc CREATE \"../x\"\r\n",
		"a LOGIN {5}\r\nalice {6}\r\nhungry\r\n* BAD\r\n+\r\n\x00\xff\r\n",
		"a LOGIN alice hungry\nb SELECT INBOX\nc FETCH 1 BODY[]<0.10>\n",
	} {
		f.Add([]byte(s))
	}
	// A command left unfinished (an open quoted string) swallows the
	// LOGOUT sent at EOF; the session then ends after DrainTimeout.
	// (Autologout bounds the same wait for a synchronizing literal.)
	e := startIMAP(f, func(c *Config) { c.DrainTimeout, c.Autologout = 200*time.Millisecond, time.Second })
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.DialTimeout("tcp", e.addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		go func() {
			c.Write(in)
			c.(*net.TCPConn).CloseWrite()
		}()
		out, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("session did not end after the client stopped sending: %v\ninput %q", err, in)
		}
		if !strings.HasPrefix(string(out), "* OK ") {
			t.Fatalf("no greeting: %q", out)
		}
		// Walk the responses: a line ending in {n} is followed by n octets
		// of literal data, and the text after a literal continues the same
		// response (it may announce another literal).
		rest := string(out)
		for rest != "" {
			line, after, _ := strings.Cut(rest, "\r\n")
			rest = after
			if !strings.HasPrefix(line, "* ") && !strings.HasPrefix(line, "+") && !tagged(line) {
				t.Fatalf("server sent %q, which is not a response; input %q", line, in)
			}
			for {
				n := trailingLiteral(line)
				if n < 0 {
					break
				}
				if int64(len(rest)) < n {
					t.Fatalf("literal of %d octets cut short; input %q", n, in)
				}
				rest = rest[n:]
				line, rest, _ = strings.Cut(rest, "\r\n")
			}
		}
	})
}

// trailingLiteral returns n for a line ending in {n}, or -1.
func trailingLiteral(line string) int64 {
	i := strings.LastIndexByte(line, '{')
	if i < 0 || !strings.HasSuffix(line, "}") || i+2 > len(line)-1 {
		return -1
	}
	n, err := strconv.ParseInt(line[i+1:len(line)-1], 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// tagged reports whether line is "TAG OK|NO|BAD ...".
func tagged(line string) bool {
	f := strings.Fields(line)
	if len(f) < 2 {
		return false
	}
	switch strings.ToUpper(f[1]) {
	case "OK", "NO", "BAD":
		return true
	}
	return false
}

// FuzzFrontArgs feeds command arguments to the front end's tokenizer and
// the ID and name checks: no panic, and tokens are pieces of the input.
func FuzzFrontArgs(f *testing.F) {
	for _, s := range []string{`("name" "mutt" "version" NIL)`, `"a\"b" (x (y "z)")) atom`, `"unterminated`, `((`, `"Entw&APw-rfe" INBOX`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks, ok := splitArgs(s)
		if ok {
			for _, tk := range toks {
				if !strings.Contains(s, tk) {
					t.Fatalf("token %q not in %q", tk, s)
				}
				_ = unquote(tk)
			}
		}
		c := &conn{}
		c.validName(s)
		c.id("t", s)
		_ = restoreRoutes(s)
		_ = restoreRoutes(`* 1 FETCH (ENVELOPE (("` + routeMarker + s + `" NIL "a" "b")))`)
	})
}

// FuzzMeta parses arbitrary messages for ENVELOPE and BODYSTRUCTURE: no
// panic, and every part has what go-imap's writer needs.
func FuzzMeta(f *testing.F) {
	f.Add([]byte(msg1))
	f.Add([]byte(msg2))
	f.Add([]byte(deepMessage(30)))
	f.Add([]byte("Content-Type: message/rfc822\r\n\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nhi\r\n--x--\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		md := computeMeta(data)
		if md.env == nil || md.bs == nil {
			t.Fatal("nil envelope or structure")
		}
		var check func(bs imap.BodyStructure, depth int)
		check = func(bs imap.BodyStructure, depth int) {
			if depth > 4*maxDepth {
				t.Fatalf("structure deeper than %d", depth)
			}
			switch b := bs.(type) {
			case *imap.BodyStructureMultiPart:
				if len(b.Children) == 0 {
					t.Fatal("multipart without children")
				}
				for _, c := range b.Children {
					check(c, depth+1)
				}
			case *imap.BodyStructureSinglePart:
				if b.Extended == nil {
					t.Fatal("single part without extension data")
				}
				if b.MessageRFC822 != nil && b.MessageRFC822.BodyStructure != nil {
					check(b.MessageRFC822.BodyStructure, depth+1)
				}
			}
		}
		check(md.bs, 0)
	})
}
