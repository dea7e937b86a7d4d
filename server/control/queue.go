package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/mailx-edu/mailx/server/queue"
)

// QueueMessage is the answer of queue.show: the message's state and its
// header section as it sits in the queue.
type QueueMessage struct {
	queue.Snapshot
	Header string `json:"header"` // raw header lines, CRLF-terminated
}

// IDArgs is the argument of the queue calls that take a message id; an empty
// ID means every message where the call allows it (retry, hold, release).
type IDArgs struct {
	ID     string `json:"id"`
	Reason string `json:"reason,omitempty"` // queue.bounce only
}

// The queue calls RegisterQueue adds.
const (
	CallQueueList    = "queue.list"
	CallQueueShow    = "queue.show"
	CallQueueDelete  = "queue.delete"
	CallQueueRetry   = "queue.retry"
	CallQueueHold    = "queue.hold"
	CallQueueRelease = "queue.release"
	CallQueueBounce  = "queue.bounce"
)

// Is lets errors.Is(err, queue.ErrNotFound) work on both sides of the
// endpoint.
func (e *Error) Is(target error) bool {
	return target == queue.ErrNotFound && e.Code == "not_found"
}

// RegisterQueue adds the queue calls for q to s.
func RegisterQueue(s *Server, q *queue.Queue) {
	withID := func(f func(ctx context.Context, a IDArgs) (any, error)) Handler {
		return func(ctx context.Context, raw json.RawMessage) (any, error) {
			var a IDArgs
			if err := json.Unmarshal(raw, &a); err != nil {
				return nil, BadRequest("arguments: %v", err)
			}
			res, err := f(ctx, a)
			if errors.Is(err, queue.ErrNotFound) {
				return nil, NotFound("%v", err)
			}
			return res, err
		}
	}
	ok := map[string]bool{"ok": true}
	s.Handle(CallQueueList, func(ctx context.Context, _ json.RawMessage) (any, error) { return q.List(), nil })
	s.Handle(CallQueueShow, withID(func(ctx context.Context, a IDArgs) (any, error) { return showLocal(q, a.ID) }))
	s.Handle(CallQueueDelete, withID(func(ctx context.Context, a IDArgs) (any, error) { return ok, q.Delete(a.ID) }))
	s.Handle(CallQueueRetry, withID(func(ctx context.Context, a IDArgs) (any, error) { return ok, q.Retry(a.ID) }))
	s.Handle(CallQueueHold, withID(func(ctx context.Context, a IDArgs) (any, error) { return ok, q.Hold(a.ID) }))
	s.Handle(CallQueueRelease, withID(func(ctx context.Context, a IDArgs) (any, error) { return ok, q.Release(a.ID) }))
	s.Handle(CallQueueBounce, withID(func(ctx context.Context, a IDArgs) (any, error) {
		err := q.Bounce(ctx, a.ID, a.Reason)
		if err != nil && !errors.Is(err, queue.ErrNotFound) {
			return nil, &Error{Status: http.StatusConflict, Code: "conflict", Message: err.Error()}
		}
		return ok, err
	}))
}

func showLocal(q *queue.Queue, id string) (QueueMessage, error) {
	snap, err := q.Get(id)
	if err != nil {
		return QueueMessage{}, err
	}
	_, raw, err := q.Header(id)
	if errors.Is(err, queue.ErrNotFound) {
		return QueueMessage{}, err
	}
	// An unreadable header still shows the envelope and the attempts.
	return QueueMessage{Snapshot: snap, Header: raw}, nil
}

// QueueAdmin administers a queue, through the running server that owns it
// or, when none runs, by opening it directly. `mailx queue` uses it.
type QueueAdmin interface {
	List(ctx context.Context) ([]queue.Snapshot, error)
	Show(ctx context.Context, id string) (QueueMessage, error)
	Delete(ctx context.Context, id string) error
	Retry(ctx context.Context, id string) error
	Hold(ctx context.Context, id string) error
	Release(ctx context.Context, id string) error
	Bounce(ctx context.Context, id, reason string) error
	// Live reports whether calls go to a running server (false: the queue
	// files were opened directly; changes take effect at its next start).
	Live() bool
	Close() error
}

// OpenQueue returns a QueueAdmin for the data directory: the running
// server's endpoint if one answers, else the queue opened directly (which
// fails with queue.ErrLocked if a server owns it but its endpoint does not
// answer, e.g. while it starts).
func OpenQueue(ctx context.Context, dataDir string) (QueueAdmin, error) {
	c, err := Dial(ctx, dataDir)
	if err == nil {
		return remoteQueue{c}, nil
	}
	if !errors.Is(err, ErrNotRunning) {
		return nil, err
	}
	q, err := queue.Open(queue.Options{Data: dataDir})
	if err != nil {
		return nil, err
	}
	return localQueue{q}, nil
}

type remoteQueue struct{ c *Client }

func (r remoteQueue) List(ctx context.Context) ([]queue.Snapshot, error) {
	var out []queue.Snapshot
	err := r.c.Call(ctx, CallQueueList, nil, &out)
	return out, err
}

func (r remoteQueue) Show(ctx context.Context, id string) (QueueMessage, error) {
	var out QueueMessage
	err := r.c.Call(ctx, CallQueueShow, IDArgs{ID: id}, &out)
	return out, err
}

func (r remoteQueue) Delete(ctx context.Context, id string) error {
	return r.c.Call(ctx, CallQueueDelete, IDArgs{ID: id}, nil)
}

func (r remoteQueue) Retry(ctx context.Context, id string) error {
	return r.c.Call(ctx, CallQueueRetry, IDArgs{ID: id}, nil)
}

func (r remoteQueue) Hold(ctx context.Context, id string) error {
	return r.c.Call(ctx, CallQueueHold, IDArgs{ID: id}, nil)
}

func (r remoteQueue) Release(ctx context.Context, id string) error {
	return r.c.Call(ctx, CallQueueRelease, IDArgs{ID: id}, nil)
}

func (r remoteQueue) Bounce(ctx context.Context, id, reason string) error {
	return r.c.Call(ctx, CallQueueBounce, IDArgs{ID: id, Reason: reason}, nil)
}

func (r remoteQueue) Live() bool   { return true }
func (r remoteQueue) Close() error { return nil }

type localQueue struct{ q *queue.Queue }

func (l localQueue) List(ctx context.Context) ([]queue.Snapshot, error) { return l.q.List(), nil }
func (l localQueue) Show(ctx context.Context, id string) (QueueMessage, error) {
	return showLocal(l.q, id)
}
func (l localQueue) Delete(ctx context.Context, id string) error  { return l.q.Delete(id) }
func (l localQueue) Retry(ctx context.Context, id string) error   { return l.q.Retry(id) }
func (l localQueue) Hold(ctx context.Context, id string) error    { return l.q.Hold(id) }
func (l localQueue) Release(ctx context.Context, id string) error { return l.q.Release(id) }

// Bounce needs the running server: a bounce is a message it must build and
// deliver.
func (l localQueue) Bounce(ctx context.Context, id, reason string) error {
	return fmt.Errorf("no server is running: start `mailx serve` on this data directory to bounce %s (a bounce is a message the server sends)", id)
}
func (l localQueue) Live() bool   { return false }
func (l localQueue) Close() error { return l.q.Close() }
