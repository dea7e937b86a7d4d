package maildir

import (
	"path/filepath"
	"time"
)

// Notify tells sessions watching the Maildir folder at dir (a user's root for
// INBOX) that something was delivered, so an IMAP client in IDLE sees the new
// message at once instead of at the next poll. The queue's local delivery
// calls it after each delivery; it is cheap when nobody watches, and safe to
// skip: Watch also polls.
func Notify(dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return
	}
	registry.Lock()
	f := registry.m[abs]
	registry.Unlock()
	if f == nil {
		return
	}
	f.mu.Lock()
	f.dirty = true
	f.mu.Unlock()
	f.wake()
}

func (f *Folder) wake() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.wakers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// PollInterval is how often Watch looks at the folder's directories when no
// Notify arrives: deliveries by other programs (a Postfix, a script copying
// files in) show up within this time. Looking costs two stat calls.
const PollInterval = 250 * time.Millisecond

// Watch keeps the folder up to date until stop is closed: it refreshes it
// after every Notify and every PollInterval, so listeners (IMAP IDLE) learn
// of new mail within a second. Refresh errors end the watch, except that a
// temporary one is retried at the next tick.
func (f *Folder) Watch(stop <-chan struct{}) error {
	ch := make(chan struct{}, 1)
	f.mu.Lock()
	f.wakers[ch] = struct{}{}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.wakers, ch)
		f.mu.Unlock()
	}()
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return nil
		case <-ch:
		case <-t.C:
		}
		if err := f.Refresh(); err == ErrGone {
			return err
		}
	}
}
