package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// cookieName is the session cookie. The "__Host-" prefix, used over TLS,
// makes browsers refuse it unless it is Secure, host-only and Path=/.
const cookieName = "mailx_session"

// session is one logged-in browser. The password stays in memory only, for
// the bridge's other connections (submission AUTH, the IDLE connection
// behind live updates); it is never written to disk, logged or traced.
type session struct {
	srv     *Server
	id      string // the cookie value (or API token)
	csrf    string
	user    string
	pass    string
	traceID string
	api     bool
	log     *bridgeLog

	lastUse atomicTime

	mu       sync.Mutex // one IMAP command sequence at a time on c
	c        *imapclient.Client
	w        *wire
	selected string
	closed   bool
	cache    []*Message        // the last few messages opened, newest last
	special  map[string]string // "sent", "trash" → folder name, from the last LIST
	streams  int

	subMu sync.Mutex
	subs  map[chan string]struct{}
}

type atomicTime struct {
	mu sync.Mutex
	t  time.Time
}

func (a *atomicTime) set(t time.Time) { a.mu.Lock(); a.t = t; a.mu.Unlock() }
func (a *atomicTime) get() time.Time  { a.mu.Lock(); defer a.mu.Unlock(); return a.t }

func (se *session) idleFor() time.Duration { return se.srv.cfg.Now().Sub(se.lastUse.get()) }

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// login checks the throttle, the password and the IMAP login, and makes a
// session. On failure it returns errLogin (after the throttle's delay),
// *BlockedError, or an *UpstreamError.
func (s *Server) login(ctx context.Context, r *http.Request, user, pass string, api bool) (_ *session, err error) {
	ip := clientAddr(r)
	if blocked, wait := s.cfg.Throttle.Blocked(ip); blocked {
		return nil, &BlockedError{Wait: wait}
	}
	user = strings.TrimSpace(user)
	fail := func() error {
		d := s.cfg.Throttle.Fail(ip)
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
		return errLogin
	}
	if user == "" || pass == "" || len(user) > 256 || len(pass) > 1024 {
		return nil, fail()
	}
	if s.cfg.Authenticate != nil {
		// The server's own accounts: checked under the throttle's rules
		// (checks from one address one at a time, each failure counted
		// before the next check starts, per-account limit), as POP3, IMAP
		// and SMTP AUTH are, so parallel web logins cannot try more.
		v := s.cfg.Throttle.Check(ip, user, func() bool { return s.cfg.Authenticate(user, pass) })
		if v.Blocked {
			return nil, &BlockedError{Wait: v.Wait}
		}
		if !v.OK {
			select {
			case <-time.After(v.Delay):
			case <-ctx.Done():
			}
			return nil, errLogin
		}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, errors.New("the web server is stopping")
	}
	if len(s.sessions) >= s.cfg.MaxSessions {
		s.mu.Unlock()
		return nil, errTooMany
	}
	s.mu.Unlock()
	se := &session{srv: s, id: randomToken(), csrf: randomToken(), user: user, pass: pass, api: api,
		traceID: s.nextSessionID(), subs: map[chan string]struct{}{}}
	se.lastUse.set(s.cfg.Now())
	se.log = newBridgeLog(se.traceID, s.cfg.Trace)
	se.log.notify = func() { se.publish("bridge") }
	what := "web"
	if api {
		what = "api"
	}
	se.log.event("http", '#', "connect "+what+" session for "+user+" from "+r.RemoteAddr, nil)
	ex := exchangeOf(r)
	if ex == nil {
		// What the browser gets: the form login answers with a redirect to
		// the inbox, the API with its token; a refusal as loginPost and the
		// API answer it.
		status := http.StatusSeeOther
		if api {
			status = http.StatusOK
		}
		ex = se.log.begin(r.Method, r.URL.Path)
		defer func() {
			if err != nil {
				status = loginFailureStatus(err)
			}
			se.log.end(ex, status)
		}()
	}
	err = se.withIMAP(ctx, ex, func(c *imapclient.Client) error { return nil })
	if err != nil {
		se.close("login failed")
		if errors.Is(err, errLogin) {
			return nil, fail()
		}
		return nil, err
	}
	s.cfg.Throttle.Succeed(ip)
	s.mu.Lock()
	s.sessions[se.id] = se
	s.mu.Unlock()
	return se, nil
}

// BlockedError is a browser address that failed too often.
type BlockedError struct{ Wait time.Duration }

func (e *BlockedError) Error() string {
	return "too many failed logins from your address: try again in " + e.Wait.Round(time.Second).String()
}

var errTooMany = errors.New("too many people are logged in to this web mail; try again later")

// sessionFor returns the session of a request's cookie, or nil.
func (s *Server) sessionFor(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		c, err = r.Cookie("__Host-" + cookieName)
		if err != nil {
			return nil
		}
	}
	return s.sessionByID(c.Value, false)
}

func (s *Server) sessionByID(id string, api bool) *session {
	s.mu.Lock()
	se := s.sessions[id]
	s.mu.Unlock()
	if se == nil || se.api != api {
		return nil
	}
	if se.idleFor() > s.cfg.SessionIdle {
		s.logout(se, "idle")
		return nil
	}
	se.lastUse.set(s.cfg.Now())
	return se
}

func (s *Server) logout(se *session, why string) {
	s.mu.Lock()
	delete(s.sessions, se.id)
	s.mu.Unlock()
	se.close(why)
}

// setCookie sends the session cookie: HttpOnly (no script reads it),
// SameSite=Strict (no other site's page sends it), Secure over TLS.
func setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	name := cookieName
	secure := r.TLS != nil
	if secure {
		name = "__Host-" + cookieName
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: secure,
		SameSite: http.SameSiteStrictMode, MaxAge: maxAge})
}

// checkCSRF accepts a state-changing request only with the session's token
// (a form field or the X-CSRF-Token header) and, when the browser says
// where the request comes from, only from this site.
func (se *session) checkCSRF(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if !sameOrigin(o, r) {
			return false
		}
	}
	if sf := r.Header.Get("Sec-Fetch-Site"); sf != "" && sf != "same-origin" && sf != "none" {
		return false
	}
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = r.PostFormValue("csrf")
	}
	return tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(se.csrf)) == 1
}

func sameOrigin(origin string, r *http.Request) bool {
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return strings.EqualFold(origin, scheme+r.Host)
}

// withIMAP runs f on the session's IMAP connection, (re)connecting and
// logging in as needed, with every line filed under ex.
func (se *session) withIMAP(ctx context.Context, ex *Exchange, f func(c *imapclient.Client) error) error {
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.closed {
		return errors.New("this session has ended; log in again")
	}
	if se.c != nil {
		select {
		case <-se.c.Closed():
			se.c, se.selected = nil, ""
		default:
		}
	}
	if se.c == nil {
		w := newWire(se.log, "imap")
		w.use(ex)
		c, err := se.srv.dialIMAP(ctx, w, nil)
		if err != nil {
			return err
		}
		if err := c.Login(se.user, se.pass).Wait(); err != nil {
			c.Close()
			var ie *imap.Error
			if errors.As(err, &ie) && ie.Type == imap.StatusResponseTypeNo {
				return errLogin
			}
			return &UpstreamError{Service: "IMAP", Addr: se.srv.cfg.IMAP.addr(), Err: err}
		}
		se.c, se.w = c, w
	}
	se.w.use(ex)
	defer se.w.use(nil)
	// A server that stops answering must not hold the session (and the
	// browser's request) for ever: past commandTimeout the connection is
	// closed, which fails the pending command, and the next request
	// connects again.
	c := se.c
	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				se.srv.cfg.Logger.Error("web: panic in an IMAP request", "panic", v, "stack", string(debug.Stack()))
				c.Close()
				done <- fmt.Errorf("internal error (logged): %v", v)
			}
		}()
		done <- f(c)
	}()
	t := time.NewTimer(commandTimeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		c.Close()
		<-done
		se.c, se.selected = nil, ""
		return &UpstreamError{Service: "IMAP", Addr: se.srv.cfg.IMAP.addr(), Err: fmt.Errorf("no answer within %s", commandTimeout)}
	}
}

// commandTimeout bounds one request's IMAP work.
const commandTimeout = time.Minute

// selectFolder makes name the selected mailbox: SELECT when it is not, a
// NOOP (which brings the server's news: new messages, flag changes) when
// it already is. Call with se.mu held (inside withIMAP).
func (se *session) selectFolder(c *imapclient.Client, name string) (messages uint32, err error) {
	if se.selected == name && c.Mailbox() != nil {
		if err := c.Noop().Wait(); err != nil {
			return 0, err
		}
		if mb := c.Mailbox(); mb != nil {
			return mb.NumMessages, nil
		}
	}
	se.selected = ""
	data, err := c.Select(name, nil).Wait()
	if err != nil {
		return 0, err
	}
	se.selected = name
	return data.NumMessages, nil
}

// close logs out of IMAP and ends the session's event streams.
func (se *session) close(why string) {
	se.mu.Lock()
	if se.closed {
		se.mu.Unlock()
		return
	}
	se.closed = true
	c := se.c
	se.c = nil
	se.pass = ""
	se.mu.Unlock()
	if c != nil {
		done := make(chan struct{})
		go func() {
			c.Logout().Wait()
			c.Close()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			c.Close()
		}
	}
	se.publish("logout")
	se.log.event("http", '#', "closed: "+why, nil)
}

// subscribe registers an event stream of the session.
func (se *session) subscribe() chan string {
	ch := make(chan string, 16)
	se.subMu.Lock()
	se.subs[ch] = struct{}{}
	se.subMu.Unlock()
	return ch
}

func (se *session) unsubscribe(ch chan string) {
	se.subMu.Lock()
	delete(se.subs, ch)
	se.subMu.Unlock()
}

// publish tells every event stream of the session about ev; a stream too
// slow to take it misses it (the next one brings it up to date).
func (se *session) publish(ev string) {
	se.subMu.Lock()
	defer se.subMu.Unlock()
	for ch := range se.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

// cached returns a message opened recently.
func (se *session) cached(folder string, uid uint32) *Message {
	for _, m := range se.cache {
		if m.Folder == folder && m.UID == uid {
			return m
		}
	}
	return nil
}

const keepMessages = 6

func (se *session) remember(m *Message) {
	se.cache = append(se.cache, m)
	if len(se.cache) > keepMessages {
		se.cache = se.cache[1:]
	}
}

func (se *session) forget(folder string) {
	var keep []*Message
	for _, m := range se.cache {
		if m.Folder != folder {
			keep = append(keep, m)
		}
	}
	se.cache = keep
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
