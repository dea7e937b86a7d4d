package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/smtp"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/server/accounts"
	"github.com/mailx-edu/mailx/server/servertest"
)

func init() { accounts.HashCost = bcrypt.MinCost }

// lab is a mailx serve in the test process with web mail on a free port.
type lab struct {
	t      testing.TB
	m      *servertest.MTA
	URL    string // http://127.0.0.1:PORT
	data   string
	events *servertest.Events
}

func startLab(t testing.TB) *lab {
	t.Helper()
	l := &lab{t: t, events: servertest.NewEvents()}
	l.m = servertest.Start(t, servertest.Options{
		Services:    []string{servertest.SMTP, servertest.Submission, servertest.IMAP, servertest.Web},
		Users:       []accounts.Credential{{Name: "alice", Password: "hungry"}, {Name: "bob", Password: "burger"}},
		Transcripts: true,
		Events:      l.events,
	})
	l.data = l.m.Data
	l.URL = "http://" + l.m.Addr(servertest.Web)
	return l
}

// deliver hands a raw message to the MTA's SMTP listener, as another
// server would, and waits until rcpt's INBOX shows it.
func (l *lab) deliver(rcpt, raw string) {
	l.t.Helper()
	before := l.count(rcpt)
	c, err := smtp.Dial(l.m.Addr("smtp"))
	if err != nil {
		l.t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("sender.test"); err != nil {
		l.t.Fatal(err)
	}
	if err := c.Mail("someone@sender.test"); err != nil {
		l.t.Fatal(err)
	}
	if err := c.Rcpt(rcpt + "@mailx.test"); err != nil {
		l.t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		l.t.Fatal(err)
	}
	io.WriteString(w, strings.ReplaceAll(raw, "\n", "\r\n"))
	if err := w.Close(); err != nil {
		l.t.Fatal(err)
	}
	c.Quit()
	testkit.Eventually(l.t, 30*time.Second, func() bool { return l.count(rcpt) > before },
		"message to %s not delivered", rcpt)
}

var passwords = map[string]string{"alice": "hungry", "bob": "burger"}

// api calls the JSON API as user and decodes the answer into out.
func (l *lab) api(user, method, path, body string, out any) int {
	l.t.Helper()
	req, _ := http.NewRequest(method, l.URL+path, strings.NewReader(body))
	req.SetBasicAuth(user, passwords[user])
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			l.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

func (l *lab) count(user string) int {
	var v struct{ Total int }
	l.api(user, "GET", "/api/v1/messages?folder=INBOX", "", &v)
	return v.Total
}

// browser is an HTTP client with its own cookies, as a browser is.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
}

func (l *lab) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: l.t, base: l.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request and returns the response with its body read.
func (b *browser) do(method, path string, form url.Values, hdr map[string]string) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	if raw, ok := hdr["body"]; ok {
		body = strings.NewReader(raw)
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		if k != "body" {
			req.Header.Set(k, v)
		}
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	s, _ := io.ReadAll(resp.Body)
	return resp, string(s)
}

func (b *browser) login(user string) {
	b.t.Helper()
	resp, body := b.do("POST", "/login", url.Values{"user": {user}, "password": {passwords[user]}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/f/INBOX" {
		b.t.Fatalf("login %s: %d %s", user, resp.StatusCode, body)
	}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the token of a page's forms.
func (b *browser) csrf() string {
	b.t.Helper()
	_, body := b.do("GET", "/f/INBOX", nil, nil)
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("no CSRF token in the list page")
	}
	return m[1]
}

func msg(subject, body string) string {
	return fmt.Sprintf("From: Someone <someone@sender.test>\nTo: bob@mailx.test\nSubject: %s\nDate: Mon, 7 Dec 2026 10:00:00 +0000\nMessage-ID: <%d@sender.test>\n\n%s\n", subject, time.Now().UnixNano(), body)
}

func htmlMsg(subject, html string) string {
	return fmt.Sprintf("From: Someone <someone@sender.test>\nTo: bob@mailx.test\nSubject: %s\nDate: Mon, 7 Dec 2026 10:00:00 +0000\nMessage-ID: <%d@sender.test>\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n%s\n", subject, time.Now().UnixNano(), html)
}
