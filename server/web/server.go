package web

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/access"
)

// Config describes a web mail bridge.
type Config struct {
	// IMAP and Submission are the mail servers the bridge is a client of.
	IMAP, Submission Endpoint
	// ClientTLS is the TLS configuration for those connections (RootCAs
	// for a self-signed practice server); nil uses the system's roots.
	ClientTLS *tls.Config
	// Domain completes a login name without "@" into the sender address
	// (alice → alice@mailx.test); "" uses the name as given.
	Domain string
	// Authenticate, when set, checks a password before the bridge logs in
	// to IMAP (mailx serve passes its accounts directory), so that wrong
	// passwords are counted against the browser's address, not the
	// bridge's loopback one.
	Authenticate func(user, password string) bool
	// Throttle slows down password guessing by browser address; mailx serve
	// passes the throttle its SMTP, POP3 and IMAP logins share. Nil: one of
	// the bridge's own.
	Throttle *access.Throttle
	// Trace receives every line the bridge exchanges, and one event per
	// HTTP request, under the web session's id; nil is off.
	Trace transcript.Hook
	// SessionID names a new web session in the trace ("s12"); nil numbers
	// them "w1", "w2", ...
	SessionID func() string
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// BridgeOff hides the bridge pane until the user opens it (it is shown
	// by default: mailx teaches).
	BridgeOff bool
	// SessionIdle logs out a web session unused this long; default 30
	// minutes, the IMAP autologout (RFC 9051 §5.4).
	SessionIdle time.Duration
	// MaxSessions bounds the logged-in sessions (each holds IMAP
	// connections); default 200.
	MaxSessions int
	// MaxUpload bounds a composed message with its attachments; default
	// 25 MiB.
	MaxUpload int64
	// PageSize is the number of messages on a list page; default 50.
	PageSize int
	// Now returns the time (tests pin it); nil is time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.SessionIdle <= 0 {
		c.SessionIdle = 30 * time.Minute
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 200
	}
	if c.MaxUpload <= 0 {
		c.MaxUpload = 25 << 20
	}
	if c.PageSize <= 0 {
		c.PageSize = 50
	}
	if c.Throttle == nil {
		c.Throttle = &access.Throttle{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Server is the web mail bridge: an http.Handler plus its sessions.
type Server struct {
	cfg   Config
	mux   *http.ServeMux
	tmpl  *template.Template
	ids   atomic.Int64
	https []*http.Server

	mu       sync.Mutex
	sessions map[string]*session
	apiKeys  map[string]apiKey
	closed   bool
	stop     chan struct{}
}

//go:embed templates/*.html static/*
var assets embed.FS

// New returns a bridge to the servers in cfg. It connects to nothing until
// someone logs in.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if (cfg.IMAP.Addr == "" && cfg.IMAP.AddrFunc == nil) || (cfg.Submission.Addr == "" && cfg.Submission.AddrFunc == nil) {
		return nil, errors.New("web: the IMAP and submission addresses are both needed")
	}
	for _, m := range []string{cfg.IMAP.TLS, cfg.Submission.TLS} {
		switch strings.ToLower(m) {
		case "", TLSAuto, TLSImplicit, TLSStart, TLSNone:
		default:
			return nil, errors.New("web: TLS mode " + m + " is not auto, implicit, starttls or none")
		}
	}
	t, err := template.New("").Funcs(funcs).ParseFS(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, tmpl: t, sessions: map[string]*session{}, stop: make(chan struct{})}
	s.routes()
	go s.reap()
	return s, nil
}

// ServeHTTP makes the bridge an http.Handler (tests use httptest).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.cfg.Logger.Error("web: handler panic", "path", r.URL.Path, "panic", v)
			http.Error(w, "internal error (logged)", http.StatusInternalServerError)
		}
	}()
	securityHeaders(w.Header())
	s.mux.ServeHTTP(w, r)
}

// Serve answers HTTP on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelWarn)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.https = append(s.https, hs)
	s.mu.Unlock()
	err := hs.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops the HTTP servers and logs every session out of IMAP.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.stop)
	hss := s.https
	sess := s.sessions
	s.sessions = map[string]*session{}
	s.mu.Unlock()
	var errs []error
	for _, hs := range hss {
		// Event streams never end by themselves: close them after a moment.
		c, cancel := context.WithTimeout(ctx, time.Second)
		if err := hs.Shutdown(c); err != nil {
			hs.Close()
		}
		cancel()
	}
	for _, se := range sess {
		se.close("server stopping")
	}
	return errors.Join(errs...)
}

// reap logs out sessions idle longer than SessionIdle.
func (s *Server) reap() {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		var old []*session
		for id, se := range s.sessions {
			if se.idleFor() > s.cfg.SessionIdle {
				old = append(old, se)
				delete(s.sessions, id)
			}
		}
		s.mu.Unlock()
		for _, se := range old {
			se.close("idle for " + s.cfg.SessionIdle.String())
		}
	}
}

func (s *Server) nextSessionID() string {
	if s.cfg.SessionID != nil {
		return s.cfg.SessionID()
	}
	return "w" + itoa(s.ids.Add(1))
}

// securityHeaders go on every response: no framing by other sites, no
// sniffing, no referrer leaking message URLs, and a CSP that allows only
// the bridge's own script and style.
func securityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'")
}

// clientAddr is the browser's address, for the login throttle.
func clientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

var _ fs.FS = assets
