package access

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// ErrClosed is returned by Acceptor.Serve once Close was called.
var ErrClosed = errors.New("server closed")

// Acceptor runs accept loops for a server that may listen on several
// addresses (smtp and submission, pop3 and pop3s, imap and imaps) and stops
// them all on Close. The zero value is ready to use.
type Acceptor struct {
	// Logger, when set, hears of each accept error that is backed off.
	Logger *slog.Logger
	// sleep waits between retries; tests replace it.
	sleep func(time.Duration)

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	closing   bool
}

// errTooManyFiles is what accept(2) fails with when the process is out of
// file descriptors (EMFILE); ENFILE is the system-wide limit. Both pass
// once sessions close, so the loop waits instead of giving up or spinning.
var errTooManyFiles = []error{syscall.EMFILE, syscall.ENFILE}

// temporary reports whether an accept error is worth waiting out.
func temporary(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range errTooManyFiles {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Serve accepts connections on l and passes each to handle until Close.
// Temporary accept errors (out of file descriptors) back off from 5 ms
// doubling up to a second instead of spinning or ending the loop.
func (a *Acceptor) Serve(l net.Listener, handle func(net.Conn)) error {
	a.mu.Lock()
	if a.closing {
		a.mu.Unlock()
		l.Close() // Close came first: nobody else will close l
		return ErrClosed
	}
	if a.listeners == nil {
		a.listeners = map[net.Listener]struct{}{}
	}
	a.listeners[l] = struct{}{}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.listeners, l)
		a.mu.Unlock()
	}()
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if a.Closing() || errors.Is(err, net.ErrClosed) {
				return ErrClosed
			}
			if temporary(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				if a.Logger != nil {
					a.Logger.Warn("accept failed; backing off", "listener", l.Addr().String(), "err", err, "delay", delay)
				}
				if a.sleep != nil {
					a.sleep(delay)
				} else {
					time.Sleep(delay)
				}
				continue
			}
			return err
		}
		delay = 0
		handle(c)
	}
}

// ErrNoTLS is returned by ServeTLS when the server has no TLS configuration:
// implicit TLS (POP3S, IMAPS) needs a certificate.
var ErrNoTLS = errors.New("implicit TLS needs a certificate: the server's Config.TLS is nil")

// ServeTLS is Serve for implicit TLS (POP3S on port 995, IMAPS on 993, RFC
// 8314): every connection accepted on l starts with a TLS handshake under
// cfg before handle sees it. A nil cfg fails with ErrNoTLS and l is left
// open for the caller.
func (a *Acceptor) ServeTLS(l net.Listener, cfg *tls.Config, handle func(net.Conn)) error {
	if cfg == nil {
		return ErrNoTLS
	}
	return a.Serve(tls.NewListener(l, cfg), handle)
}

// Closing reports whether Close was called.
func (a *Acceptor) Closing() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.closing
}

// Close stops every accept loop.
func (a *Acceptor) Close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closing = true
	for l := range a.listeners {
		l.Close()
	}
}
