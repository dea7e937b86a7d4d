package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	mmime "github.com/mailx-edu/mailx/proto/mime"
)

type ctxKey int

// keyExchange holds the request's bridge Exchange (exchangeOf).
const keyExchange ctxKey = 0

func exchangeOf(r *http.Request) *Exchange {
	ex, _ := r.Context().Value(keyExchange).(*Exchange)
	return ex
}

func withExchange(ctx context.Context, ex *Exchange) context.Context {
	return context.WithValue(ctx, keyExchange, ex)
}

func (s *Server) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(assets, "static")
	fileServer := http.FileServerFS(static)
	m.Handle("GET /static/", http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	})))
	m.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.loginPost)
	m.HandleFunc("POST /logout", s.page(s.logoutPost, true))
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/f/INBOX", http.StatusSeeOther) })
	m.HandleFunc("GET /f/{folder}", s.page(s.listPage, true))
	m.HandleFunc("GET /m/{folder}/{uid}", s.page(s.messagePage, true))
	m.HandleFunc("GET /m/{folder}/{uid}/body", s.page(s.messageBody, true))
	m.HandleFunc("GET /m/{folder}/{uid}/part/{part}", s.page(s.partDownload, true))
	m.HandleFunc("GET /m/{folder}/{uid}/raw", s.page(s.rawDownload, true))
	m.HandleFunc("POST /m/{folder}/{uid}/flag", s.page(s.flagPost, true))
	m.HandleFunc("POST /m/{folder}/{uid}/move", s.page(s.movePost, true))
	m.HandleFunc("POST /m/{folder}/{uid}/delete", s.page(s.deletePost, true))
	m.HandleFunc("GET /compose", s.page(s.composePage, true))
	m.HandleFunc("POST /send", s.page(s.sendPost, true))
	m.HandleFunc("GET /events", s.page(s.events, false))
	m.HandleFunc("GET /bridge.json", s.page(s.bridgeJSON, false))
	s.apiRoutes(m)
	s.mux = m
}

// statusWriter remembers the status for the bridge pane.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// page wraps a handler that needs a session: without one it sends the
// browser to the login page; with one, when record is set, the request
// becomes an exchange in the bridge pane. State-changing requests must
// carry the CSRF token.
func (s *Server) page(h func(w http.ResponseWriter, r *http.Request, se *session), record bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		se := s.sessionFor(r)
		if se == nil {
			if r.Method == http.MethodGet && r.Header.Get("Accept") != "text/event-stream" && !strings.HasSuffix(r.URL.Path, ".json") {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "not logged in (or the session ended): log in again at /login", http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload+1<<20)
			if !se.checkCSRF(r) {
				http.Error(w, "this form is out of date or came from another site (missing or wrong CSRF token): reload the page and try again", http.StatusForbidden)
				return
			}
		}
		if !record {
			h(w, r, se)
			return
		}
		path := r.URL.Path
		if r.URL.RawQuery != "" {
			path += "?" + r.URL.RawQuery
		}
		ex := se.log.begin(r.Method, path)
		sw := &statusWriter{ResponseWriter: w}
		defer func() { se.log.end(ex, max(sw.status, 200)) }()
		h(sw, r.WithContext(withExchange(r.Context(), ex)), se)
	}
}

// pageData is what every page template gets.
type pageData struct {
	Title    string
	User     string
	CSRF     string
	Bridge   bool
	Folders  []Folder
	Folder   string
	Error    string
	Flash    string
	List     *Listing
	Query    ListQuery
	Msg      *Message
	Tab      string
	Remote   bool
	Compose  *composeForm
	Login    string
	Next     string
	MoveTo   []Folder
	Now      time.Time
	Blocked  int
	PrevPage string
	NextPage string
}

func (s *Server) render(w http.ResponseWriter, status int, name string, d *pageData) {
	d.Bridge = !s.cfg.BridgeOff
	d.Now = s.cfg.Now()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := s.tmpl.ExecuteTemplate(w, name, d); err != nil {
		s.cfg.Logger.Error("web: template", "name", name, "err", err)
	}
}

func (s *Server) base(se *session, title string) *pageData {
	return &pageData{Title: title, User: se.user, CSRF: se.csrf}
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if se := s.sessionFor(r); se != nil {
		http.Redirect(w, r, "/f/INBOX", http.StatusSeeOther)
		return
	}
	s.render(w, 200, "login.html", &pageData{Title: "Log in"})
}

func (s *Server) loginPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	user, pass := r.PostFormValue("user"), r.PostFormValue("password")
	// A login form posted from another site is refused: it could log the
	// browser in to an account the attacker chose (login CSRF).
	if o := r.Header.Get("Origin"); o != "" && o != "null" && !sameOrigin(o, r) {
		http.Error(w, "login forms must come from this site", http.StatusForbidden)
		return
	}
	se, err := s.login(r.Context(), r, user, pass, false)
	if err != nil {
		d := &pageData{Title: "Log in", Login: user}
		var be *BlockedError
		var ue *UpstreamError
		switch {
		case errors.Is(err, errLogin):
			d.Error = "That user name or password was refused. Practice accounts of mailx serve: alice (password hungry), bob (password burger)."
		case errors.As(err, &be):
			d.Error = strings.ToUpper(be.Error()[:1]) + be.Error()[1:] + "."
		case errors.As(err, &ue):
			d.Error = "The bridge " + ue.Error() + ". Is the mail server running?"
		default:
			d.Error = err.Error()
		}
		s.render(w, loginFailureStatus(err), "login.html", d)
		return
	}
	setCookie(w, r, se.id, 0)
	http.Redirect(w, r, "/f/INBOX", http.StatusSeeOther)
}

// loginFailureStatus is the HTTP status of a refused login, the same for the
// form, the API and the bridge pane's record of the exchange: 401 for a
// wrong name or password, 429 while the throttle blocks the address, 502
// when the IMAP server cannot be reached, 503 otherwise (the web server is
// stopping or has too many sessions).
func loginFailureStatus(err error) int {
	var be *BlockedError
	var ue *UpstreamError
	switch {
	case errors.Is(err, errLogin):
		return http.StatusUnauthorized
	case errors.As(err, &be):
		return http.StatusTooManyRequests
	case errors.As(err, &ue):
		return http.StatusBadGateway
	default:
		return http.StatusServiceUnavailable
	}
}

func (s *Server) logoutPost(w http.ResponseWriter, r *http.Request, se *session) {
	s.logout(se, "logged out")
	setCookie(w, r, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// folderURL is the list page of a folder: the only redirect targets the
// bridge builds, always a path on this site (no open redirect).
func folderURL(folder string) string { return "/f/" + url.PathEscape(folder) }

func messageURL(folder string, uid uint32) string {
	return "/m/" + url.PathEscape(folder) + "/" + strconv.FormatUint(uint64(uid), 10)
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, se *session, err error) {
	status := http.StatusBadGateway
	msg := err.Error()
	var ie *imap.Error
	switch {
	case errors.Is(err, errNoMessage):
		status = http.StatusNotFound
	case errors.As(err, &ie):
		status = http.StatusBadRequest
		msg = "the IMAP server said " + string(ie.Type) + ": " + ie.Text
	}
	d := s.base(se, "Error")
	d.Error = msg
	s.render(w, status, "error.html", d)
}

func (s *Server) listPage(w http.ResponseWriter, r *http.Request, se *session) {
	q := listQuery(r)
	folders, err := se.folders(r.Context(), exchangeOf(r))
	if err != nil {
		s.fail(w, r, se, err)
		return
	}
	l, err := se.list(r.Context(), exchangeOf(r), q)
	if err != nil {
		s.fail(w, r, se, err)
		return
	}
	d := s.base(se, q.Folder)
	d.Folders, d.Folder, d.List, d.Query = folders, q.Folder, l, q
	switch r.URL.Query().Get("done") {
	case "sent":
		d.Flash = "Message sent, and a copy saved in Sent."
	case "moved":
		d.Flash = "Message moved."
	case "deleted":
		d.Flash = "Message deleted."
	}
	if q.Page > 0 {
		d.PrevPage = pageURL(q, q.Page-1)
	}
	if q.Page+1 < l.Pages {
		d.NextPage = pageURL(q, q.Page+1)
	}
	s.render(w, 200, "list.html", d)
}

func pageURL(q ListQuery, page int) string {
	v := url.Values{}
	if page > 0 {
		v.Set("page", strconv.Itoa(page+1))
	}
	if q.Sort == "oldest" {
		v.Set("sort", "oldest")
	}
	if q.Search != "" {
		v.Set("q", q.Search)
	}
	if q.Filter != "" {
		v.Set("filter", q.Filter)
	}
	u := folderURL(q.Folder)
	if len(v) > 0 {
		u += "?" + v.Encode()
	}
	return u
}

func listQuery(r *http.Request) ListQuery {
	v := r.URL.Query()
	q := ListQuery{Folder: r.PathValue("folder"), Sort: v.Get("sort"), Search: strings.TrimSpace(v.Get("q")), Filter: v.Get("filter")}
	if q.Folder == "" {
		q.Folder = v.Get("folder")
	}
	if q.Folder == "" {
		q.Folder = "INBOX"
	}
	if p, err := strconv.Atoi(v.Get("page")); err == nil && p > 1 && p < 1<<20 {
		q.Page = p - 1
	}
	if q.Sort != "oldest" {
		q.Sort = "newest"
	}
	if q.Filter != "unseen" && q.Filter != "flagged" {
		q.Filter = ""
	}
	if len(q.Search) > 200 {
		q.Search = q.Search[:200]
	}
	return q
}

func uidOf(r *http.Request) (uint32, bool) {
	n, err := strconv.ParseUint(r.PathValue("uid"), 10, 32)
	return uint32(n), err == nil && n > 0
}

var tabs = []string{"rendered", "text", "headers", "raw", "tree"}

func (s *Server) messagePage(w http.ResponseWriter, r *http.Request, se *session) {
	uid, ok := uidOf(r)
	folder := r.PathValue("folder")
	if !ok {
		http.Error(w, "a message number (UID) is a positive number", http.StatusBadRequest)
		return
	}
	// The message first: opening it marks it read, which the folder
	// counts beside it should already show.
	m, err := se.open(r.Context(), exchangeOf(r), folder, uid, true)
	if err != nil {
		s.fail(w, r, se, err)
		return
	}
	folders, err := se.folders(r.Context(), exchangeOf(r))
	if err != nil {
		s.fail(w, r, se, err)
		return
	}
	tab := r.URL.Query().Get("tab")
	if !contains(tabs, tab) {
		tab = "rendered"
		if !m.HasHTML {
			tab = "text"
		}
	}
	d := s.base(se, m.Subject)
	d.Folders, d.Folder, d.Msg, d.Tab = folders, folder, m, tab
	d.Remote = r.URL.Query().Get("remote") == "1"
	if m.HasHTML {
		d.Blocked = m.cleanHTML(false).RemoteBlocked
	}
	for _, f := range folders {
		if f.Name != folder {
			d.MoveTo = append(d.MoveTo, f)
		}
	}
	s.render(w, 200, "message.html", d)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// openUnread opens the message the request's path names without marking it
// read, for the frame and the downloads a page already showing it asks
// for. On failure it has answered the request and returns false.
func (s *Server) openUnread(w http.ResponseWriter, r *http.Request, se *session) (*Message, uint32, bool) {
	uid, ok := uidOf(r)
	if !ok {
		http.Error(w, "bad message number", http.StatusBadRequest)
		return nil, 0, false
	}
	m, err := se.open(r.Context(), exchangeOf(r), r.PathValue("folder"), uid, false)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return nil, 0, false
	}
	return m, uid, true
}

// messageBody is the document of the sandboxed frame: the cleaned HTML,
// under a policy that forbids every script, plugin, form and fetch but
// images from the message itself (data: URLs), and remote images only
// after the user asked for them.
func (s *Server) messageBody(w http.ResponseWriter, r *http.Request, se *session) {
	m, _, ok := s.openUnread(w, r, se)
	if !ok {
		return
	}
	remote := r.URL.Query().Get("remote") == "1"
	c := m.cleanHTML(remote)
	img := "data:"
	if remote {
		img = "data: http: https:"
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; img-src "+img+"; style-src 'unsafe-inline'; font-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	fmt.Fprint(w, `<!doctype html><html><head><meta charset="utf-8"><meta name="color-scheme" content="light dark">`+
		`<style>body{font-family:system-ui,sans-serif;margin:12px;overflow-wrap:anywhere}img{max-width:100%;height:auto}`+
		`@media (prefers-color-scheme: dark){html{background:#fff;color:#111}}</style></head><body>`)
	fmt.Fprint(w, c.HTML)
	fmt.Fprint(w, `</body></html>`)
}

// partDownload sends one part as an attachment: never rendered by the
// browser in the site's origin, whatever its type claims.
func (s *Server) partDownload(w http.ResponseWriter, r *http.Request, se *session) {
	m, _, ok := s.openUnread(w, r, se)
	if !ok {
		return
	}
	p, content, ok := m.part(r.PathValue("part"))
	if !ok {
		http.Error(w, "no such part: the MIME tree tab lists them", http.StatusNotFound)
		return
	}
	name := mmime.SafeFilename(p.Filename, p.Number, p.ContentType)
	download(w, name, p.ContentType, content)
}

func (s *Server) rawDownload(w http.ResponseWriter, r *http.Request, se *session) {
	m, uid, ok := s.openUnread(w, r, se)
	if !ok {
		return
	}
	download(w, fmt.Sprintf("message-%d.eml", uid), "message/rfc822", m.Raw)
}

func download(w http.ResponseWriter, name, ctype string, b []byte) {
	h := w.Header()
	if _, _, err := mime.ParseMediaType(ctype); err != nil || ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

func (s *Server) flagPost(w http.ResponseWriter, r *http.Request, se *session) {
	uid, ok := uidOf(r)
	folder := r.PathValue("folder")
	if !ok {
		http.Error(w, "bad message number", http.StatusBadRequest)
		return
	}
	var flag imap.Flag
	on := true
	switch r.PostFormValue("what") {
	case "seen":
		flag = imap.FlagSeen
	case "unseen":
		flag, on = imap.FlagSeen, false
	case "flagged":
		flag = imap.FlagFlagged
	case "unflagged":
		flag, on = imap.FlagFlagged, false
	default:
		http.Error(w, "what must be seen, unseen, flagged or unflagged", http.StatusBadRequest)
		return
	}
	if err := se.setFlag(r.Context(), exchangeOf(r), folder, uid, flag, on); err != nil {
		s.fail(w, r, se, err)
		return
	}
	if r.PostFormValue("back") == "list" || r.PostFormValue("what") == "unseen" {
		http.Redirect(w, r, folderURL(folder), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, messageURL(folder, uid), http.StatusSeeOther)
}

func (s *Server) movePost(w http.ResponseWriter, r *http.Request, se *session) {
	uid, ok := uidOf(r)
	folder, dest := r.PathValue("folder"), r.PostFormValue("to")
	if !ok || dest == "" {
		http.Error(w, "choose a message and a folder to move it to", http.StatusBadRequest)
		return
	}
	if err := se.move(r.Context(), exchangeOf(r), folder, uid, dest); err != nil {
		s.fail(w, r, se, err)
		return
	}
	http.Redirect(w, r, folderURL(folder)+"?done=moved", http.StatusSeeOther)
}

func (s *Server) deletePost(w http.ResponseWriter, r *http.Request, se *session) {
	uid, ok := uidOf(r)
	folder := r.PathValue("folder")
	if !ok {
		http.Error(w, "bad message number", http.StatusBadRequest)
		return
	}
	if err := se.remove(r.Context(), exchangeOf(r), folder, uid); err != nil {
		s.fail(w, r, se, err)
		return
	}
	http.Redirect(w, r, folderURL(folder)+"?done=deleted", http.StatusSeeOther)
}

func (s *Server) bridgeJSON(w http.ResponseWriter, r *http.Request, se *session) {
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	writeJSON(w, 200, map[string]any{"session": se.traceID, "exchanges": se.log.snapshot(after)})
}
