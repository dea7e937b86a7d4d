package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
)

// The JSON API, for teachers' scripts and autograding. It takes no cookie:
// every request carries its credentials in the Authorization header, so a
// page on another site can never make the browser call it (no CSRF).
//
//	Authorization: Basic base64(user:password)   over loopback or TLS only
//	Authorization: Bearer TOKEN                  from POST /api/v1/token

func (s *Server) apiRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /api/v1/token", s.api(s.apiToken))
	m.HandleFunc("GET /api/v1/folders", s.api(s.apiFolders))
	m.HandleFunc("GET /api/v1/messages", s.api(s.apiMessages))
	m.HandleFunc("GET /api/v1/messages/{uid}", s.api(s.apiMessage))
	m.HandleFunc("POST /api/v1/send", s.api(s.apiSend))
	m.HandleFunc("GET /api/v1/bridge", s.api(s.apiBridge))
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, "no such API call: see GET /api/v1/folders, /api/v1/messages?folder=, /api/v1/messages/{uid}, POST /api/v1/send")
	})
}

// apiKeys maps a user and a hash of the password to the API session that
// Basic requests with those credentials share, so that a script's hundred
// calls are one IMAP login, not a hundred.
var apiKeysMu sync.Mutex

type apiKey struct {
	token string
	hash  [32]byte
}

func (s *Server) api(h func(w http.ResponseWriter, r *http.Request, se *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		auth := r.Header.Get("Authorization")
		var se *session
		switch {
		case strings.HasPrefix(auth, "Bearer "):
			se = s.sessionByID(strings.TrimSpace(auth[7:]), true)
			if se == nil {
				apiError(w, http.StatusUnauthorized, "the token is unknown or expired: get a new one with POST /api/v1/token")
				return
			}
		default:
			user, pass, ok := r.BasicAuth()
			if !ok {
				w.Header().Set("WWW-Authenticate", `Basic realm="mailx web", charset="UTF-8"`)
				apiError(w, http.StatusUnauthorized, "log in with HTTP Basic (curl -u alice:hungry) or a Bearer token")
				return
			}
			if r.TLS == nil && !isLoopback(clientAddr(r).String()) {
				apiError(w, http.StatusForbidden, "HTTP Basic sends the password in clear: use it over TLS or from this machine only, or get a token")
				return
			}
			var err error
			if se, err = s.apiSession(r, user, pass); err != nil {
				apiError(w, loginFailureStatus(err), err.Error())
				return
			}
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload*2)
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

func (s *Server) apiSession(r *http.Request, user, pass string) (*session, error) {
	key := user
	hash := sha256.Sum256([]byte(user + "\x00" + pass))
	apiKeysMu.Lock()
	if s.apiKeys == nil {
		s.apiKeys = map[string]apiKey{}
	}
	k, ok := s.apiKeys[key]
	apiKeysMu.Unlock()
	if ok && subtle.ConstantTimeCompare(k.hash[:], hash[:]) == 1 {
		if se := s.sessionByID(k.token, true); se != nil {
			return se, nil
		}
	}
	se, err := s.login(r.Context(), r, user, pass, true)
	if err != nil {
		return nil, err
	}
	apiKeysMu.Lock()
	s.apiKeys[key] = apiKey{token: se.id, hash: hash}
	apiKeysMu.Unlock()
	return se, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func apiError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (s *Server) apiErr(w http.ResponseWriter, err error) {
	var ie *imap.Error
	var in *inputError
	var se *SendError
	switch {
	case errors.Is(err, errNoMessage):
		apiError(w, http.StatusNotFound, err.Error())
	case errors.As(err, &ie):
		apiError(w, http.StatusBadRequest, "the IMAP server said "+string(ie.Type)+": "+ie.Text)
	case errors.As(err, &in):
		apiError(w, http.StatusBadRequest, in.msg)
	case errors.As(err, &se):
		apiError(w, http.StatusBadRequest, se.Error())
	default:
		apiError(w, http.StatusBadGateway, err.Error())
	}
}

func (s *Server) apiToken(w http.ResponseWriter, r *http.Request, se *session) {
	writeJSON(w, 200, map[string]string{"token": se.id, "user": se.user, "use": "Authorization: Bearer " + se.id})
}

func (s *Server) apiFolders(w http.ResponseWriter, r *http.Request, se *session) {
	fs, err := se.folders(r.Context(), exchangeOf(r))
	if err != nil {
		s.apiErr(w, err)
		return
	}
	writeJSON(w, 200, map[string]any{"folders": fs})
}

func (s *Server) apiMessages(w http.ResponseWriter, r *http.Request, se *session) {
	l, err := se.list(r.Context(), exchangeOf(r), listQuery(r))
	if err != nil {
		s.apiErr(w, err)
		return
	}
	if l.Messages == nil {
		l.Messages = []Summary{}
	}
	writeJSON(w, 200, l)
}

// apiMessage is one message: headers with their explanations, the MIME
// parts, the text, and with raw=1 the whole source.
func (s *Server) apiMessage(w http.ResponseWriter, r *http.Request, se *session) {
	uid, ok := uidOf(r)
	if !ok {
		apiError(w, http.StatusBadRequest, "the UID in /api/v1/messages/{uid} is a positive number")
		return
	}
	folder := r.URL.Query().Get("folder")
	if folder == "" {
		folder = "INBOX"
	}
	m, err := se.open(r.Context(), exchangeOf(r), folder, uid, r.URL.Query().Get("seen") == "1")
	if err != nil {
		s.apiErr(w, err)
		return
	}
	out := struct {
		*Message
		RawText string `json:"raw,omitempty"`
		HTML    string `json:"html_cleaned,omitempty"`
	}{Message: m}
	if r.URL.Query().Get("raw") == "1" {
		out.RawText = string(m.Raw)
	}
	if m.HasHTML {
		out.HTML = m.cleanHTML(false).HTML
	}
	writeJSON(w, 200, out)
}

// sendRequest is the body of POST /api/v1/send.
type sendRequest struct {
	To         []string `json:"to"`
	Cc         []string `json:"cc"`
	Bcc        []string `json:"bcc"`
	Subject    string   `json:"subject"`
	Text       string   `json:"text"`
	HTML       string   `json:"html"`
	InReplyTo  string   `json:"in_reply_to"`
	References string   `json:"references"`
}

func (s *Server) apiSend(w http.ResponseWriter, r *http.Request, se *session) {
	var req sendRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, `the body must be JSON such as {"to":["bob@mailx.test"],"subject":"Hi","text":"Hello"}: `+err.Error())
		return
	}
	res, err := se.send(r.Context(), exchangeOf(r), Outgoing{To: req.To, Cc: req.Cc, Bcc: req.Bcc, Subject: req.Subject,
		Text: req.Text, HTML: req.HTML, InReplyTo: oneLine(req.InReplyTo), References: oneLine(req.References)})
	if err != nil {
		s.apiErr(w, err)
		return
	}
	writeJSON(w, 200, res)
}

// apiBridge returns the exchanges of this API session, or with
// ?session=ID those of any session of the same user: what a lesson check
// or a teacher's script reads to see what the bridge did.
func (s *Server) apiBridge(w http.ResponseWriter, r *http.Request, se *session) {
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	var out []map[string]any
	s.mu.Lock()
	var all []*session
	for _, o := range s.sessions {
		if o.user == se.user && o != se {
			all = append(all, o)
		}
	}
	s.mu.Unlock()
	all = append(all, se)
	for _, o := range all {
		kind := "web"
		if o.api {
			kind = "api"
		}
		out = append(out, map[string]any{"session": o.traceID, "kind": kind, "exchanges": o.log.snapshot(after)})
	}
	writeJSON(w, 200, map[string]any{"sessions": out})
}
