package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// maxStreams bounds the live-update streams (each an IMAP connection in
// IDLE) of one session: a few tabs, not a tab storm.
const maxStreams = 4

// reIdle is how often IDLE is ended and started again: RFC 2177 §3 asks
// clients to do so at least every 29 minutes, before the server's
// inactivity timer logs them out.
const reIdle = 25 * time.Minute

// events is the page's server-sent event stream (text/event-stream). The
// bridge opens its own IMAP connection for it, SELECTs the folder the page
// shows and sits in IDLE (RFC 2177): when the server says "* 8 EXISTS" (a
// new message) or "* 3 EXPUNGE", the page gets an event "mail" and fetches
// the list again. The event "bridge" says the pane has new lines.
func (s *Server) events(w http.ResponseWriter, r *http.Request, se *session) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	folder := r.URL.Query().Get("folder")
	if folder == "" {
		folder = "INBOX"
	}
	se.subMu.Lock()
	if se.streams >= maxStreams {
		se.subMu.Unlock()
		http.Error(w, "too many open live-update streams for this session: close some tabs", http.StatusTooManyRequests)
		return
	}
	se.streams++
	se.subMu.Unlock()
	defer func() {
		se.subMu.Lock()
		se.streams--
		se.subMu.Unlock()
	}()
	ex := se.log.beginStream("GET", r.URL.Path+"?"+r.URL.RawQuery)
	defer se.log.end(ex, 200)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(200)
	fmt.Fprint(w, "retry: 3000\n\n")
	fl.Flush()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	news := make(chan struct{}, 1)
	poke := func() {
		select {
		case news <- struct{}{}:
		default:
		}
	}
	sub := se.subscribe()
	defer se.unsubscribe(sub)
	idleErr := make(chan error, 1)
	go func() { idleErr <- s.idle(ctx, se, ex, folder, poke) }()

	heartbeat := time.NewTicker(25 * time.Second)
	defer heartbeat.Stop()
	send := func(event, data string) bool {
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data); err != nil {
			return false
		}
		fl.Flush()
		return true
	}
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-idleErr:
			if err != nil {
				send("error", "live updates stopped: the IMAP connection ended")
			}
			return
		case <-news:
			if !send("mail", folder) {
				return
			}
		case ev := <-sub:
			if !send(ev, "") || ev == "logout" {
				return
			}
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

// idle holds an IMAP connection in IDLE on folder until ctx ends, calling
// poke for every change the server announces.
func (s *Server) idle(ctx context.Context, se *session, ex *Exchange, folder string, poke func()) error {
	w := newWire(se.log, "imap")
	w.use(ex)
	h := &imapclient.UnilateralDataHandler{
		Expunge: func(uint32) { poke() },
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				poke()
			}
		},
		Fetch: func(*imapclient.FetchMessageData) { poke() },
	}
	se.mu.Lock()
	user, pass := se.user, se.pass
	se.mu.Unlock()
	if pass == "" {
		return fmt.Errorf("session closed")
	}
	c, err := s.dialIMAP(ctx, w, h)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if err := c.Login(user, pass).Wait(); err != nil {
		return err
	}
	if _, err := c.Select(folder, nil).Wait(); err != nil {
		return err
	}
	for {
		cmd, err := c.Idle()
		if err != nil {
			return err
		}
		t := time.NewTimer(reIdle)
		select {
		case <-ctx.Done():
			t.Stop()
			cmd.Close()
			c.Logout().Wait()
			return nil
		case <-t.C:
		case <-c.Closed():
			t.Stop()
			return fmt.Errorf("the IMAP server closed the connection")
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		if err := cmd.Wait(); err != nil {
			return err
		}
	}
}
