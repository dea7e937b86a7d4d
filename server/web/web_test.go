package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/server/web"
)

// TestLoginReadSendE2E is the path over HTTP: log in, the list,
// a message in every tab, a reply sent through submission and saved in
// Sent, and the bridge pane's record of the IMAP and SMTP lines.
func TestLoginReadSendE2E(t *testing.T) {
	l := startLab(t)
	l.deliver("bob", msg("Crêpes tonight?", "Shall we meet at eight?\nAlice"))
	b := l.browser()
	if resp, _ := b.do("GET", "/f/INBOX", nil, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("without a session: %d %s, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	b.login("bob")
	resp, body := b.do("GET", "/f/INBOX", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Crêpes tonight?") || !strings.Contains(body, `href="/m/INBOX/1"`) {
		t.Fatalf("list: %d\n%s", resp.StatusCode, body)
	}
	for _, tab := range []string{"rendered", "text", "headers", "raw", "tree"} {
		resp, body := b.do("GET", "/m/INBOX/1?tab="+tab, nil, nil)
		if resp.StatusCode != 200 || !strings.Contains(body, "Crêpes tonight?") {
			t.Fatalf("tab %s: %d", tab, resp.StatusCode)
		}
		want := map[string]string{"rendered": "Shall we meet", "text": "Shall we meet", "headers": "Message-ID",
			"raw": "Subject: Crêpes tonight?", "tree": "text/plain"}[tab]
		if !strings.Contains(body, want) {
			t.Errorf("tab %s lacks %q", tab, want)
		}
	}
	// Opening the message marked it read.
	var list struct{ Messages []struct{ Seen bool } }
	l.api("bob", "GET", "/api/v1/messages?folder=INBOX", "", &list)
	if len(list.Messages) != 1 || !list.Messages[0].Seen {
		t.Errorf("after opening: %+v, want seen", list.Messages)
	}
	_, body = b.do("GET", "/compose?folder=INBOX&reply=1", nil, nil)
	if !strings.Contains(body, `value="someone@sender.test"`) || !strings.Contains(body, "Re: Crêpes tonight?") || !strings.Contains(body, "&gt; Shall we meet") {
		t.Fatalf("reply form not filled in:\n%s", body)
	}
	tok := b.csrf()
	resp, body = b.do("POST", "/send", url.Values{"csrf": {tok}, "to": {"alice@mailx.test"}, "subject": {"Re: Crêpes tonight?"}, "body": {"Yes!"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send: %d %s", resp.StatusCode, body)
	}
	waitCount(t, l, "alice", 1)
	var sent struct{ Total int }
	l.api("bob", "GET", "/api/v1/messages?folder=Sent", "", &sent)
	if sent.Total != 1 {
		t.Errorf("Sent holds %d messages, want the copy", sent.Total)
	}
	_, body = b.do("GET", "/bridge.json", nil, nil)
	for _, want := range []string{`"path": "/m/INBOX/1?tab=rendered"`, `SELECT INBOX`, `UID FETCH 1 (UID FLAGS BODY.PEEK[])`,
		`AUTH PLAIN ********`, `MAIL FROM:\u003cbob@mailx.test\u003e`, `RCPT TO:\u003calice@mailx.test\u003e`, `APPEND \"Sent\"`, `LOGIN bob ********`} {
		if !strings.Contains(body, want) {
			t.Errorf("bridge.json lacks %s", want)
		}
	}
	if strings.Contains(body, "burger") {
		t.Error("the password appears in the bridge pane")
	}
	// The same lines went to the server's trace and transcript files.
	var sawSelect bool
	web := map[string]bool{}
	for _, ev := range l.events.All() {
		if strings.HasPrefix(ev.Line, "connect web session") || strings.HasPrefix(ev.Line, "connect api session") {
			web[ev.Session] = true
		}
		// Only the bridge's own sessions: the IMAP server records its
		// side of the same LOGIN separately (server/imap).
		if !web[ev.Session] {
			continue
		}
		if strings.Contains(ev.Line, "burger") || strings.Contains(ev.Line, "YnVyZ2Vy") {
			t.Errorf("trace event holds the password: %q", ev.Line)
		}
		sawSelect = sawSelect || strings.HasSuffix(ev.Line, "SELECT INBOX") && ev.Dir == 'C'
	}
	if !sawSelect {
		t.Error("no SELECT INBOX in the serve trace")
	}
	// While the session runs, its live transcript already holds the lines.
	live, _ := filepath.Glob(filepath.Join(l.data, "web", "transcripts", "*.txt"))
	sawLive := false
	for _, f := range live {
		b, _ := os.ReadFile(f)
		sawLive = sawLive || strings.Contains(string(b), "# connect: web session for bob") && strings.Contains(string(b), "MAIL FROM:<bob@mailx.test>")
	}
	if !sawLive {
		t.Errorf("no live transcript of bob's web session in DATA/web/transcripts: %v", live)
	}
	resp, _ = b.do("POST", "/logout", url.Values{"csrf": {tok}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	files, _ := filepath.Glob(filepath.Join(l.data, "transcripts", "*.txt"))
	found := false
	for _, f := range files {
		b, _ := os.ReadFile(f)
		s := string(b)
		if strings.Contains(s, "# connect: web session for bob") {
			// The form login answers 303 (to the inbox), and the record says so.
			found = strings.Contains(s, "C: ") && strings.Contains(s, "SELECT INBOX") && strings.Contains(s, "# http GET /f/INBOX -> 200") && strings.Contains(s, "# http POST /login -> 303")
			if strings.Contains(s, "burger") {
				t.Errorf("%s holds the password", f)
			}
		}
	}
	if !found {
		t.Error("no transcript of the web session with its SELECT and HTTP lines (GET /f/INBOX -> 200, POST /login -> 303) in DATA/transcripts")
	}
}

// TestCSRFAndCookies: state-changing requests need the session's token and
// a same-site origin; the cookie is HttpOnly and SameSite=Strict.
func TestCSRFAndCookies(t *testing.T) {
	l := startLab(t)
	l.deliver("bob", msg("Keep me", "hello"))
	b := l.browser()
	resp, _ := b.do("POST", "/login", url.Values{"user": {"bob"}, "password": {"burger"}}, nil)
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "mailx_session" {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" {
		t.Fatalf("session cookie %+v, want HttpOnly, SameSite=Strict, Path=/", ck)
	}
	tok := b.csrf()
	for _, tc := range []struct {
		name string
		form url.Values
		hdr  map[string]string
	}{
		{"no token", url.Values{"what": {"flagged"}}, nil},
		{"wrong token", url.Values{"what": {"flagged"}, "csrf": {"x" + tok}}, nil},
		{"other origin", url.Values{"what": {"flagged"}, "csrf": {tok}}, map[string]string{"Origin": "http://evil.test"}},
		{"cross-site fetch", url.Values{"what": {"flagged"}, "csrf": {tok}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
	} {
		resp, _ := b.do("POST", "/m/INBOX/1/flag", tc.form, tc.hdr)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", tc.name, resp.StatusCode)
		}
	}
	resp, _ = b.do("POST", "/m/INBOX/1/delete", url.Values{"csrf": {tok}}, map[string]string{"Origin": l.URL})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/f/INBOX?done=deleted" {
		t.Fatalf("delete with the token: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var trash struct{ Total int }
	l.api("bob", "GET", "/api/v1/messages?folder=Trash", "", &trash)
	if trash.Total != 1 {
		t.Errorf("Trash holds %d, want the deleted message", trash.Total)
	}
	// A login form posted from another site is refused (login CSRF).
	resp, _ = l.browser().do("POST", "/login", url.Values{"user": {"bob"}, "password": {"burger"}}, map[string]string{"Origin": "http://evil.test"})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site login: %d, want 403", resp.StatusCode)
	}
}

// TestLoginFailures: a wrong password is refused with the throttle's
// delay and never opens a session; the API needs credentials.
func TestLoginFailures(t *testing.T) {
	l := startLab(t)
	b := l.browser()
	resp, body := b.do("POST", "/login", url.Values{"user": {"bob"}, "password": {"wrong"}}, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "refused") {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/f/INBOX", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a failed login opened a session: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", l.URL+"/api/v1/folders", nil)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("API without credentials: %d", r.StatusCode)
	}
	// A cookie session does not open the API: it would need CSRF tokens.
	b.login("bob")
	if resp, _ := b.do("GET", "/api/v1/folders", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API with only a cookie: %d, want 401", resp.StatusCode)
	}
}

// TestAPI drives the JSON API as a teacher's script would.
func TestAPI(t *testing.T) {
	l := startLab(t)
	var res struct {
		MessageID  string `json:"message_id"`
		Recipients []string
		SavedSent  bool `json:"saved_in_sent"`
	}
	if code := l.api("alice", "POST", "/api/v1/send", `{"to":["bob@mailx.test"],"subject":"From the API","text":"Hello Bob"}`, &res); code != 200 || !res.SavedSent {
		t.Fatalf("send: %d %+v", code, res)
	}
	waitCount(t, l, "bob", 1)
	var m struct {
		Subject string
		Text    string
		Raw     string
		Headers []struct {
			Name string
			Note *struct{ Summary string }
		}
		Parts []struct {
			ContentType string `json:"content_type"`
		}
	}
	if code := l.api("bob", "GET", "/api/v1/messages/1?folder=INBOX&raw=1", "", &m); code != 200 {
		t.Fatalf("message: %d", code)
	}
	if m.Subject != "From the API" || !strings.Contains(m.Text, "Hello Bob") || !strings.Contains(m.Raw, "Message-ID: "+res.MessageID) || len(m.Parts) == 0 {
		t.Errorf("message: %+v", m)
	}
	explained := false
	for _, h := range m.Headers {
		explained = explained || h.Name == "Message-ID" && h.Note != nil && h.Note.Summary != ""
	}
	if !explained {
		t.Error("headers carry no explanations")
	}
	var e map[string]string
	if code := l.api("bob", "GET", "/api/v1/messages/99?folder=INBOX", "", &e); code != 404 || e["error"] == "" {
		t.Errorf("missing message: %d %v", code, e)
	}
	if code := l.api("bob", "POST", "/api/v1/send", `{"to":["not an address"]}`, &e); code != 400 || !strings.Contains(e["error"], "not a list of addresses") {
		t.Errorf("bad recipient: %d %v", code, e)
	}
	if code := l.api("bob", "POST", "/api/v1/send", `{"to":`, &e); code != 400 {
		t.Errorf("bad JSON: %d %v", code, e)
	}
	var tok struct{ Token string }
	l.api("bob", "POST", "/api/v1/token", "", &tok)
	req, _ := http.NewRequest("GET", l.URL+"/api/v1/folders", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 {
		t.Errorf("Bearer token: %d", r.StatusCode)
	}
}

// TestDownloadsAndRedirects: parts download as attachments that the
// browser may not sniff; no redirect leaves the site.
func TestDownloadsAndRedirects(t *testing.T) {
	l := startLab(t)
	raw := "From: a@sender.test\nTo: bob@mailx.test\nSubject: files\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nsee attached\n--b\nContent-Type: text/html; name=\"evil.html\"\nContent-Disposition: attachment; filename=\"../evil.html\"\n\n<script>alert(1)</script>\n--b--\n"
	l.deliver("bob", raw)
	b := l.browser()
	b.login("bob")
	resp, body := b.do("GET", "/m/INBOX/1/part/2", nil, nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || strings.Contains(resp.Header.Get("Content-Disposition"), "/") {
		t.Fatalf("part download: %d %v", resp.StatusCode, resp.Header)
	}
	if !strings.Contains(body, "<script>") {
		t.Errorf("the part's content changed: %q", body)
	}
	for _, p := range []string{"/m/INBOX/1/part/9", "/m/INBOX/1/part/..%2F..%2Fetc"} {
		if resp, _ := b.do("GET", p, nil, nil); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
	tok := b.csrf()
	resp, _ = b.do("POST", "/m/INBOX/1/move", url.Values{"csrf": {tok}, "to": {"Trash"}, "next": {"https://evil.test/"}}, nil)
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/f/") {
		t.Errorf("redirect to %q", loc)
	}
	resp, _ = b.do("GET", "//evil.test/", nil, nil)
	if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, "//") || strings.Contains(loc, "://") {
		t.Errorf("redirect to %q", loc)
	}
}

// TestSecureCookieOverTLS: over HTTPS the session cookie is Secure and
// host-only (__Host-), and HTTP Basic is accepted from other addresses.
func TestSecureCookieOverTLS(t *testing.T) {
	l := startLab(t)
	ws, err := web.New(web.Config{IMAP: web.Endpoint{Addr: l.m.Addr("imap")}, Submission: web.Endpoint{Addr: l.m.Addr("submission")}, Domain: "mailx.test"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewTLSServer(ws)
	t.Cleanup(func() { ts.Close(); ws.Shutdown(context.Background()) })
	c := ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.PostForm(ts.URL+"/login", url.Values{"user": {"bob"}, "password": {"burger"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		ck = c
	}
	if resp.StatusCode != http.StatusSeeOther || ck == nil || ck.Name != "__Host-mailx_session" || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login over TLS: %d, cookie %+v", resp.StatusCode, ck)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/f/INBOX", nil)
	req.AddCookie(ck)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("list over TLS: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestPagingSearchFilters: pages of 50, newest first or oldest first,
// IMAP SEARCH and the unread filter, through the pages and the API.
func TestPagingSearchFilters(t *testing.T) {
	l := startLab(t)
	l.fill("bob", 120)
	var p struct {
		Total, Matches, Pages int
		Messages              []struct {
			UID     int
			Subject string
		}
	}
	l.api("bob", "GET", "/api/v1/messages?folder=INBOX", "", &p)
	if p.Total != 120 || p.Pages != 3 || len(p.Messages) != 50 || p.Messages[0].UID != 120 || p.Messages[49].UID != 71 {
		t.Fatalf("page 1: total %d pages %d, %d messages, first %+v", p.Total, p.Pages, len(p.Messages), p.Messages[0])
	}
	l.api("bob", "GET", "/api/v1/messages?folder=INBOX&page=3", "", &p)
	if len(p.Messages) != 20 || p.Messages[0].UID != 20 || p.Messages[19].UID != 1 {
		t.Errorf("page 3: %d messages", len(p.Messages))
	}
	l.api("bob", "GET", "/api/v1/messages?folder=INBOX&sort=oldest", "", &p)
	if p.Messages[0].UID != 1 {
		t.Errorf("oldest first starts at %d", p.Messages[0].UID)
	}
	l.api("bob", "GET", "/api/v1/messages?folder=INBOX&q=number+77", "", &p)
	if p.Matches != 1 || len(p.Messages) != 1 || p.Messages[0].Subject != "Message number 77" {
		t.Errorf("search: %+v", p)
	}
	b := l.browser()
	b.login("bob")
	b.do("GET", "/m/INBOX/5", nil, nil) // now read
	l.api("bob", "GET", "/api/v1/messages?folder=INBOX&filter=unseen", "", &p)
	if p.Matches != 119 {
		t.Errorf("unread: %d, want 119", p.Matches)
	}
	_, body := b.do("GET", "/f/INBOX?page=2", nil, nil)
	if !strings.Contains(body, `href="/f/INBOX"`) || !strings.Contains(body, `href="/f/INBOX?page=3"`) || !strings.Contains(body, "Page 2 of 3") {
		t.Errorf("pager of page 2 wrong")
	}
}

// TestComposeAttachmentsForward: a message sent with an attachment from
// the form, then forwarded with that attachment ticked.
func TestComposeAttachmentsForward(t *testing.T) {
	l := startLab(t)
	b := l.browser()
	b.login("alice")
	tok := b.csrf()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range map[string]string{"csrf": tok, "to": "bob@mailx.test", "subject": "Recipe", "body": "The recipe is attached."} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("attach", "crepes.txt")
	io.WriteString(fw, "flour, eggs, milk\n")
	mw.Close()
	resp, body := b.do("POST", "/send", nil, map[string]string{"Content-Type": mw.FormDataContentType(), "body": buf.String()})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send with attachment: %d %s", resp.StatusCode, body)
	}
	waitCount(t, l, "bob", 1)
	bob := l.browser()
	bob.login("bob")
	_, body = bob.do("GET", "/m/INBOX/1?tab=tree", nil, nil)
	if !strings.Contains(body, "crepes.txt") || !strings.Contains(body, `href="/m/INBOX/1/part/2"`) {
		t.Fatalf("tree tab lacks the attachment")
	}
	if _, part := bob.do("GET", "/m/INBOX/1/part/2", nil, nil); part != "flour, eggs, milk\n" {
		t.Errorf("attachment content %q", part)
	}
	_, body = bob.do("GET", "/compose?folder=INBOX&forward=1", nil, nil)
	if !strings.Contains(body, "Fwd: Recipe") || !strings.Contains(body, `name="fwd_part" value="2"`) {
		t.Fatalf("forward form:\n%s", body)
	}
	resp, body = bob.do("POST", "/send", url.Values{"csrf": {bob.csrf()}, "to": {"alice@mailx.test"}, "subject": {"Fwd: Recipe"},
		"body": {"see below"}, "fwd_folder": {"INBOX"}, "fwd_uid": {"1"}, "fwd_part": {"2"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("forward: %d %s", resp.StatusCode, body)
	}
	waitCount(t, l, "alice", 1)
	var m struct {
		Parts []struct{ Filename string }
	}
	l.api("alice", "GET", "/api/v1/messages/1?folder=INBOX", "", &m)
	found := false
	for _, p := range m.Parts {
		found = found || p.Filename == "crepes.txt"
	}
	if !found {
		t.Errorf("the forward lacks the attachment: %+v", m.Parts)
	}
}

func waitCount(t *testing.T, l *lab, user string, n int) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, func() bool { return l.count(user) >= n },
		"%s has %d messages, want %d", user, testkit.Later(func() any { return l.count(user) }), n)
}
