package queue

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/mailx-edu/mailx/server/maildir"
)

// uniqueFor is the Maildir unique name of recipient i of m: the same on every
// attempt, so a delivery repeated after a crash can be recognised.
func uniqueFor(m *Message, i int) string {
	return strconv.FormatInt(m.Envelope.Received.Unix(), 10) + ".Q" + m.ID + "R" + strconv.Itoa(i) + "." + maildir.Host()
}

// deliverLocal puts message m into user's Maildir for recipient i.
func (q *Queue) deliverLocal(m *Message, i int, user string) Result {
	addr := m.rcpts[i].Addr
	if !maildir.ValidUser(user) {
		return Result{Code: 550, Host: "local", Reply: fmt.Sprintf("550 5.1.1 <%s>: account name %q cannot be a mailbox", addr, user)}
	}
	root, err := q.mailboxRoot(user)
	if err != nil {
		return q.localError(m, addr, err)
	}
	where := "Maildir"
	if dir, name, ok := folderFor(m, root, addr); ok {
		// The spam checks junked this copy (see server/spam): it goes
		// into the Maildir++ folder, which IMAP shows as \Junk.
		root, where = dir, name+" folder"
	}
	unique := uniqueFor(m, i)
	if m.recovered {
		// The previous process may have delivered it just before dying.
		if p, found := q.recoveredIndex(root)[unique]; found {
			q.trace(m, fmt.Sprintf("already in %s's Maildir as %s (delivered before a restart); not delivering twice", user, filepath.Base(p)))
			return Result{Code: 250, Host: "local", Reply: "250 2.0.0 already delivered to " + user + "'s Maildir as " + filepath.Base(p)}
		}
	}
	rc, err := m.Open()
	if err != nil {
		return q.localError(m, addr, err)
	}
	defer rc.Close()
	name, err := maildir.Deliver(root, rc, maildir.DeliverOptions{Unique: unique, Prepend: deliveryPrepend(m.Envelope.From, addr), SyncDir: q.syncer.Sync})
	if err != nil {
		return q.localError(m, addr, err)
	}
	maildir.Notify(root) // an IMAP session in IDLE sees it at once
	q.trace(m, fmt.Sprintf("delivered to %s's %s as new/%s", user, where, name))
	return Result{Code: 250, Host: "local", Reply: "250 2.0.0 delivered to " + user + "'s " + where + " as new/" + name}
}

// mailboxRoot returns user's Maildir, creating it the first time this
// process delivers there (later deliveries skip the directory checks).
func (q *Queue) mailboxRoot(user string) (string, error) {
	root := maildir.Root(q.opts.Data, user)
	if _, ok := q.mailbox.Load(user); !ok {
		if err := maildir.Create(root); err != nil {
			return "", err
		}
		q.mailbox.Store(user, struct{}{})
	}
	return root, nil
}

// deliveryPrepend is the trace fields final delivery adds (RFC 5321 §4.4).
func deliveryPrepend(from, rcpt string) []byte {
	return []byte("Return-Path: <" + from + ">\r\nDelivered-To: " + rcpt + "\r\n")
}

// localError turns a failed Maildir write into a temporary failure: a full
// disk or a permission problem is for the administrator to fix, and the
// message waits in the queue meanwhile.
func (q *Queue) localError(m *Message, addr string, err error) Result {
	q.log.Error("queue: local delivery failed", "id", m.ID, "rcpt", addr, "err", err)
	if errors.Is(err, syscall.ENOSPC) {
		return Result{Code: 452, Host: "local", Reply: "452 4.3.1 mailbox disk full; will retry"}
	}
	if errors.Is(err, os.ErrPermission) {
		return Result{Code: 451, Host: "local", Reply: "451 4.3.0 cannot write the Maildir (permission denied); will retry"}
	}
	return Result{Code: 451, Host: "local", Reply: "451 4.3.0 local delivery failed: " + err.Error()}
}

// recoveredIndex returns the index of the Maildir at root as it was when
// first asked, which holds everything the previous process delivered; it is
// built once per Maildir, so recovering many messages reads each one once.
func (q *Queue) recoveredIndex(root string) map[string]string {
	q.idxMu.Lock()
	defer q.idxMu.Unlock()
	if idx, ok := q.idx[root]; ok {
		return idx
	}
	idx, err := maildir.Index(root)
	if err != nil {
		q.log.Warn("queue: cannot read Maildir to check for earlier deliveries", "root", root, "err", err)
	}
	if q.idx == nil {
		q.idx = map[string]map[string]string{}
	}
	q.idx[root] = idx
	return idx
}

// folderFor returns the Maildir++ folder directory a recipient's copy goes
// to when the envelope names one (Envelope.Folders) and it exists.
func folderFor(m *Message, root, addr string) (dir, name string, ok bool) {
	name = m.Envelope.Folders[addr]
	if name == "" || strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") || strings.Contains(name, "..") {
		return "", "", false
	}
	dir = filepath.Join(root, "."+name)
	if st, err := os.Stat(filepath.Join(dir, "cur")); err != nil || !st.IsDir() {
		return "", "", false
	}
	return dir, name, true
}
