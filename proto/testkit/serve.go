package testkit

import (
	"context"
	"errors"
	"net"
	"time"
)

// Server is what the SMTP, POP3 and IMAP servers have in common: they serve
// a listener until Shutdown.
type Server interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
}

// Serve runs s on a new listener on 127.0.0.1:0 and returns its address; the
// server is ready when Serve returns (the listener is already open, so a
// client's connection waits in its backlog). In t.Cleanup, s is shut down
// and the test fails if that does not finish within 10 seconds.
func Serve(t TB, s Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testkit: listen: %v", err)
		return ""
	}
	ServeOn(t, s, l)
	return l.Addr().String()
}

// ServeOn is Serve on a listener the test made (one that wraps connections,
// say, or was opened before the server existed).
func ServeOn(t TB, s Server, l net.Listener) {
	t.Helper()
	go s.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("shutting the server down: %v", err)
		}
	})
}
