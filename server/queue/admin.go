package queue

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/textproto"
	"sort"
	"strings"
)

// List returns a snapshot of every queued message, oldest first.
func (q *Queue) List() []Snapshot {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]Snapshot, 0, len(q.msgs))
	for _, m := range q.msgs {
		if !m.removed() {
			out = append(out, snapshotLocked(m))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func snapshotLocked(m *Message) Snapshot {
	s := Snapshot{ID: m.ID, Size: m.Size, Envelope: m.Envelope, Busy: m.busy()}
	s.Envelope.To = append([]string(nil), m.Envelope.To...)
	s.Recipients = make([]Recipient, len(m.rcpts))
	for i, r := range m.rcpts {
		s.Recipients[i] = copyRecipient(r)
	}
	return s
}

func (q *Queue) lookup(id string) (*Message, error) {
	if !validID(id) {
		return nil, fmt.Errorf("queue: %q: %w (queue ids are 16 hex digits, as `mailx queue list` shows them)", id, ErrNotFound)
	}
	m := q.msgs[id]
	if m == nil || m.removed() {
		return nil, fmt.Errorf("queue: %s: %w", id, ErrNotFound)
	}
	return m, nil
}

// Get returns a snapshot of one message.
func (q *Queue) Get(id string) (Snapshot, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	m, err := q.lookup(id)
	if err != nil {
		return Snapshot{}, err
	}
	return snapshotLocked(m), nil
}

// maxHeader bounds what Header reads: a header section larger than this is
// cut (the caller shows what there is).
const maxHeader = 256 << 10

// Header returns the header section of a queued message, parsed, with the
// raw text (CRLF lines, up to the blank line).
func (q *Queue) Header(id string) (textproto.MIMEHeader, string, error) {
	q.mu.Lock()
	m, err := q.lookup(id)
	q.mu.Unlock()
	if err != nil {
		return nil, "", err
	}
	rc, err := m.Open()
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	raw, err := readHeaderBlock(io.LimitReader(rc, maxHeader))
	// The message may have left the queue while we read, and its slot been
	// reused by another: then what we read is not its header.
	q.mu.Lock()
	gone := q.msgs[id] != m || m.removed()
	q.mu.Unlock()
	if gone {
		return nil, "", fmt.Errorf("queue: %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, raw, err
	}
	h, err := textproto.NewReader(bufio.NewReader(strings.NewReader(raw + "\r\n"))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return nil, raw, fmt.Errorf("queue: %s: header unreadable: %w", id, err)
	}
	return h, raw, nil
}

// Delete removes a message from the queue without delivering it further. A
// message being delivered right now is removed when that attempt ends.
func (q *Queue) Delete(id string) error {
	q.mu.Lock()
	m, err := q.lookup(id)
	if err != nil {
		q.mu.Unlock()
		return err
	}
	removeNow := m.markDeleted()
	if removeNow {
		delete(q.msgs, id)
	}
	q.trace(m, "deleted from the queue by the administrator")
	q.mu.Unlock()
	if !removeNow {
		return nil // the attempt under way removes it when it ends
	}
	return q.remove(m, true)
}

// Retry makes the deferred recipients of message id (every message when id is
// "") due now.
func (q *Queue) Retry(id string) error {
	return q.change(id, (*Recipient).retryNow)
}

// Hold puts the recipients of message id (all messages when "") that are not
// final aside: they are not tried until Release.
func (q *Queue) Hold(id string) error {
	return q.change(id, (*Recipient).hold)
}

// Release makes held recipients of message id (all when "") due now.
func (q *Queue) Release(id string) error {
	return q.change(id, (*Recipient).release)
}

// Bounce fails every recipient of message id that is not final, as if each
// had got a 5xx reply with reason, and hands them to Options.Bounce.
func (q *Queue) Bounce(ctx context.Context, id, reason string) error {
	if reason == "" {
		reason = "554 5.0.0 returned to sender by the mail administrator"
	}
	q.mu.Lock()
	m, err := q.lookup(id)
	if err != nil {
		q.mu.Unlock()
		return err
	}
	if !m.take(false) {
		q.mu.Unlock()
		return fmt.Errorf("queue: %s is being delivered right now; try again in a moment", id)
	}
	results := map[int]Result{}
	for i, r := range m.rcpts {
		if !r.State.Final() {
			results[i] = Result{Code: 554, Host: "local", Reply: reason}
		}
	}
	q.mu.Unlock()
	q.finish(ctx, m, results, nil)
	return nil
}

// change applies fn to the recipients of message id (all messages when id is
// ""), saves the state of those it changed and dispatches what became due.
func (q *Queue) change(id string, fn func(*Recipient) bool) error {
	q.mu.Lock()
	var targets []*Message
	if id == "" {
		for _, m := range q.msgs {
			targets = append(targets, m)
		}
	} else {
		m, err := q.lookup(id)
		if err != nil {
			q.mu.Unlock()
			return err
		}
		targets = []*Message{m}
	}
	type save struct {
		m     *Message
		state []byte
	}
	var saves []save
	for _, m := range targets {
		changed := false
		for _, r := range m.rcpts {
			if fn(r) {
				changed = true
			}
		}
		if changed {
			m.dirty = true // a busy message's worker saves it when its attempt ends
			if !m.busy() {
				m.dirty = false
				saves = append(saves, save{m, mustState(m)})
			}
		}
	}
	q.mu.Unlock()
	for _, s := range saves {
		if err := q.saveState(s.m, s.state); err != nil {
			return fmt.Errorf("queue: save %s: %w", s.m.ID, err)
		}
	}
	q.Kick()
	return nil
}
