package control

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// FileName is the control file in the data directory.
const FileName = "control.json"

// Info is what control.json holds.
type Info struct {
	Addr    string    `json:"addr"`  // 127.0.0.1:PORT
	Token   string    `json:"token"` // hex; sent as a bearer token
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// Handler answers one call: args is the request body (JSON, possibly empty);
// the result is encoded as JSON. Return an *Error to choose the status.
type Handler func(ctx context.Context, args json.RawMessage) (any, error)

// Error is a call's failure as the client sees it.
type Error struct {
	Status  int    `json:"-"`    // HTTP status: 400 bad arguments, 404 not found, 409 busy, 500 other
	Code    string `json:"code"` // "bad_request", "not_found", "conflict", "internal", "unknown_call"
	Message string `json:"error"`
}

func (e *Error) Error() string { return e.Message }

// NotFound builds a 404 Error.
func NotFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf(format, args...)}
}

// BadRequest builds a 400 Error.
func BadRequest(format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: fmt.Sprintf(format, args...)}
}

var validName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// Server is a running control endpoint.
type Server struct {
	info   Info
	file   string
	ln     net.Listener
	srv    *http.Server
	log    *slog.Logger
	mu     sync.RWMutex
	calls  map[string]Handler
	closed sync.Once
}

// Start listens on 127.0.0.1:0 and writes dataDir/control.json. Register
// calls with Handle (before or after Start). Close removes the file.
func Start(ctx context.Context, dataDir string, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	tok := make([]byte, 32)
	rand.Read(tok)
	s := &Server{
		info:  Info{Addr: ln.Addr().String(), Token: hex.EncodeToString(tok), PID: os.Getpid(), Started: time.Now().UTC()},
		file:  filepath.Join(dataDir, FileName),
		ln:    ln,
		log:   logger,
		calls: map[string]Handler{},
	}
	b, _ := json.MarshalIndent(s.info, "", "  ")
	tmp := s.file + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control: %w", err)
	}
	if err := os.Rename(tmp, s.file); err != nil {
		ln.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("control: %w", err)
	}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serve),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	go s.srv.Serve(ln)
	return s, nil
}

// Addr returns the address the endpoint listens on.
func (s *Server) Addr() string { return s.info.Addr }

// Handle registers (or replaces) the call name, e.g. "queue.retry".
func (s *Server) Handle(name string, h Handler) {
	if !validName.MatchString(name) {
		panic("control: invalid call name " + name)
	}
	s.mu.Lock()
	s.calls[name] = h
	s.mu.Unlock()
}

// Close stops the endpoint and removes control.json (if it is still ours).
func (s *Server) Close() error {
	var err error
	s.closed.Do(func() {
		if b, rerr := os.ReadFile(s.file); rerr == nil && strings.Contains(string(b), s.info.Token) {
			os.Remove(s.file)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = s.srv.Shutdown(ctx)
	})
	return err
}

// maxBody bounds a request body: calls take ids and short options.
const maxBody = 1 << 20

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "Bearer ") ||
		subtle.ConstantTimeCompare([]byte(strings.TrimPrefix(auth, "Bearer ")), []byte(s.info.Token)) != 1 {
		writeError(w, &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "missing or wrong control token (read it from " + FileName + ")"})
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: "bad_request", Message: "calls are POST with a JSON body"})
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	s.mu.RLock()
	h := s.calls[name]
	s.mu.RUnlock()
	if !ok || h == nil {
		writeError(w, &Error{Status: http.StatusNotFound, Code: "unknown_call", Message: fmt.Sprintf("this server has no control call %q (is it an older mailx?)", name)})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeError(w, BadRequest("request body unreadable or too large"))
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	res, err := h(r.Context(), body)
	if err != nil {
		var ce *Error
		if !errors.As(err, &ce) {
			s.log.Error("control: call failed", "call", name, "err", err)
			ce = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: err.Error()}
		}
		writeError(w, ce)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(res)
}

func writeError(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(e)
}
