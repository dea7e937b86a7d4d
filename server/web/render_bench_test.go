package web

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkRenderMessage is the bridge's own work for a message view once
// the IMAP reply is in: parse the MIME tree, clean the HTML and render the
// page (the goal: under 50 ms).
func BenchmarkRenderMessage(b *testing.B) {
	s, err := New(Config{IMAP: Endpoint{Addr: "127.0.0.1:1"}, Submission: Endpoint{Addr: "127.0.0.1:1"}})
	if err != nil {
		b.Fatal(err)
	}
	defer close(s.stop)
	raw := "From: a@b.test\r\nTo: c@d.test\r\nSubject: bench\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\n" + strings.Repeat("Plain text line of the message body.\r\n", 200) +
		"--b\r\nContent-Type: text/html\r\n\r\n<table>" + strings.Repeat("<tr><td style=\"color:#333\">cell <b>bold</b> <a href=\"https://x.test/\">link</a><img src=\"https://x.test/i.png\"></td></tr>\r\n", 200) + "</table>\r\n--b--\r\n"
	for b.Loop() {
		m, err := parseMessage("INBOX", 1, nil, []byte(raw))
		if err != nil {
			b.Fatal(err)
		}
		c := m.cleanHTML(false)
		w := httptest.NewRecorder()
		s.render(w, 200, "message.html", &pageData{Title: m.Subject, User: "bob", Folder: "INBOX", Msg: m, Tab: "rendered", Blocked: c.RemoteBlocked})
		if w.Code != 200 || len(c.HTML) == 0 {
			b.Fatal("no page")
		}
	}
}
