package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/server/maildir"
)

// fill puts n messages in user's INBOX straight into the Maildir, before
// anyone opens it (delivering 10,000 through SMTP would measure SMTP).
func (l *lab) fill(user string, n int) {
	root := l.m.MailRoot(user)
	for i := 1; i <= n; i++ {
		m := fmt.Sprintf("From: Sender %d <s%d@sender.test>\r\nTo: %s@mailx.test\r\nSubject: Message number %d\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-ID: <%d@sender.test>\r\n\r\nBody of message %d.\r\n%s",
			i, i, user, i, i, i, strings.Repeat("A line of text to make the message a realistic size.\r\n", 20))
		if _, err := maildir.Deliver(root, strings.NewReader(m), maildir.DeliverOptions{Unsynced: true}); err != nil {
			l.t.Fatal(err)
		}
	}
}

// BenchmarkListPage10k serves the message list of a 10,000-message folder:
// one page of 50 through one FETCH (the goal: under 150 ms). The
// time includes the folder list (LIST, STATUS) and the page's HTML.
func BenchmarkListPage10k(b *testing.B) {
	l := startLab(b)
	l.fill("bob", 10000)
	br := l.browser()
	br.login("bob")
	// The first SELECT of the folder makes the server index it: not the
	// list's cost.
	br.do("GET", "/f/INBOX", nil, nil)
	for _, page := range []string{"/f/INBOX", "/f/INBOX?page=100", "/f/INBOX?sort=oldest&page=3"} {
		b.Run(strings.NewReplacer("/", "_", "?", "_", "&", "_").Replace(page), func(b *testing.B) {
			for b.Loop() {
				resp, body := br.do("GET", page, nil, nil)
				if resp.StatusCode != 200 || !strings.Contains(body, "Message number") {
					b.Fatalf("%s: %d", page, resp.StatusCode)
				}
			}
		})
	}
}

// BenchmarkMessageView10k opens a different message of the folder each
// time (no cache): UID FETCH, STORE \Seen, parse, page (the goal: under
// 50 ms after the IMAP reply; BenchmarkRenderMessage measures that part).
func BenchmarkMessageView10k(b *testing.B) {
	l := startLab(b)
	l.fill("bob", 10000)
	br := l.browser()
	br.login("bob")
	br.do("GET", "/f/INBOX", nil, nil)
	i := 0
	b.Run("page", func(b *testing.B) {
		for b.Loop() {
			i++
			resp, _ := br.do("GET", fmt.Sprintf("/m/INBOX/%d", 1+i%10000), nil, nil)
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	// The API with seen=1: FETCH, STORE \Seen and parse, no folder list.
	b.Run("api-fetch-store", func(b *testing.B) {
		for b.Loop() {
			i++
			var v struct{ Subject string }
			if code := l.api("bob", "GET", fmt.Sprintf("/api/v1/messages/%d?folder=INBOX&seen=1", 1+i%10000), "", &v); code != 200 {
				b.Fatalf("status %d", code)
			}
		}
	})
	// The API's message call leaves \Seen alone: FETCH and parse only.
	b.Run("api-fetch-only", func(b *testing.B) {
		for b.Loop() {
			i++
			var v struct{ Subject string }
			if code := l.api("bob", "GET", fmt.Sprintf("/api/v1/messages/%d?folder=INBOX", 1+i%10000), "", &v); code != 200 {
				b.Fatalf("status %d", code)
			}
		}
	})
}
