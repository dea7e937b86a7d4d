package access

import (
	"errors"
	"net"
	"sync"
	"time"
)

// ErrClosed is returned by Acceptor.Serve once Close was called.
var ErrClosed = errors.New("server closed")

// Acceptor runs accept loops for a server that may listen on several
// addresses (pop3 and pop3s, imap and imaps) and stops them all on Close.
// The zero value is ready to use.
type Acceptor struct {
	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	closing   bool
}

// Serve accepts connections on l and passes each to handle until Close.
// Temporary accept errors (out of file descriptors) back off up to a
// second instead of spinning.
func (a *Acceptor) Serve(l net.Listener, handle func(net.Conn)) error {
	a.mu.Lock()
	if a.closing {
		a.mu.Unlock()
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
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		handle(c)
	}
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
