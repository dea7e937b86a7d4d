package relay

import (
	"fmt"
	"strings"
	"sync"

	"github.com/mailx-edu/mailx/proto/transcript"
)

// Hops links the two ends of a relay hop between MTAs of one process (the
// lab): the sending Client registers the local address of each connection
// it opens, and the receiving MTA's trace, passed through Wrap, recognises
// that address in its "connect from ..." event and announces the hop in its
// own session. Each hop gets an id unique in the process ("h3"), carried by
// a Meta line on both ends, so `grep "relay hop h3"` finds both sides of one
// conversation even though each MTA numbers its sessions itself.
type Hops struct {
	mu sync.Mutex
	n  int
	m  map[string]hop // client's local address "127.0.0.1:54321" → hop
}

type hop struct {
	id      string // "h3"
	session string // the sending side's session id, e.g. "s7"
	from    string // the sending MTA's name, e.g. "crepes.test"
}

// NewHops returns an empty registry.
func NewHops() *Hops { return &Hops{m: map[string]hop{}} }

// register records that session of MTA from connected from local, and
// returns the hop's id ("" without a registry).
func (h *Hops) register(local, session, from string) string {
	if h == nil {
		return ""
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	id := fmt.Sprintf("h%d", h.n)
	h.m[local] = hop{id, session, from}
	return id
}

// forget drops a finished connection's entry.
func (h *Hops) forget(local string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	delete(h.m, local)
	h.mu.Unlock()
}

// Lookup returns the hop id, sending session and MTA for a client address
// seen by a receiving server.
func (h *Hops) Lookup(remote string) (id, session, from string, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	x, ok := h.m[remote]
	return x.id, x.session, x.from, ok
}

// HopLine is how both ends of a hop name it.
func HopLine(id string) string { return "relay hop " + id }

// Wrap returns a trace hook for a receiving MTA: it passes every event to
// next and announces relay hops. The connection is seen ("connect from
// ADDR") possibly before the sending client has registered it, so the hop
// is looked up at the session's first client line (EHLO): the client
// registers right after connecting, before it even reads the greeting.
func (h *Hops) Wrap(next transcript.Hook) transcript.Hook {
	if next == nil {
		return nil
	}
	var mu sync.Mutex
	pending := map[string]string{} // receiving session → client address
	return func(e transcript.Event) {
		next(e)
		switch {
		case e.Dir == transcript.Meta && strings.HasPrefix(e.Line, "connect from "):
			f := strings.Fields(strings.TrimPrefix(e.Line, "connect from "))
			if len(f) > 0 {
				mu.Lock()
				pending[e.Session] = strings.TrimRight(f[0], ",;:")
				mu.Unlock()
			}
		case e.Dir == transcript.Meta && strings.HasPrefix(e.Line, "closed"):
			mu.Lock()
			delete(pending, e.Session)
			mu.Unlock()
		case e.Dir == transcript.Client:
			mu.Lock()
			addr, ok := pending[e.Session]
			delete(pending, e.Session)
			mu.Unlock()
			if !ok {
				return
			}
			if id, s, from, ok := h.Lookup(addr); ok {
				e.Dir, e.Line = transcript.Meta, fmt.Sprintf("%s: this session receives relay session %s of %s", HopLine(id), s, from)
				next(e)
			}
		}
	}
}
