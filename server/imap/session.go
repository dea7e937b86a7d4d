package imap

import (
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-sasl"

	"github.com/mailx-edu/mailx/server/access"
	"github.com/mailx-edu/mailx/server/maildir"
)

// session is one logged-in (or not yet) IMAP session: go-imap calls its
// methods for each command.
type session struct {
	s    *Server
	c    *conn
	user string
	mb   *maildir.Mailbox
	sel  *selected
}

// selected is the folder a session has selected, with this session's view
// of it (go-imap's SessionTracker translates sequence numbers while other
// sessions' changes are still pending for this client).
type selected struct {
	name     string
	f        *maildir.Folder
	st       *imapserver.SessionTracker
	readOnly bool
}

var (
	_ imapserver.SessionIMAP4rev2   = (*session)(nil)
	_ imapserver.SessionSASL        = (*session)(nil)
	_ imapserver.SessionAppendLimit = (*session)(nil)
)

func (s *Server) newSession(ic *imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
	c := s.connFor(ic.NetConn())
	if c == nil {
		return nil, nil, errors.New("imap: connection without a front end")
	}
	return &session{s: s, c: c}, nil, nil
}

func (ss *session) Close() error {
	if ss.sel != nil {
		ss.sel.st.Close()
		ss.sel = nil
	}
	return nil
}

func no(code imap.ResponseCode, format string, args ...any) error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: code, Text: fmt.Sprintf(format, args...)}
}

// Login checks a password: only over TLS or loopback, throttled per client
// address, with the same accounts as SMTP submission.
func (ss *session) Login(username, password string) error {
	if !ss.c.clearTextOK() {
		return no(imap.ResponseCodePrivacyRequired, "a password may not be sent in clear over this connection; use STARTTLS first, or the IMAPS port")
	}
	user := access.UserOf(ss.s.cfg.Accounts, username)
	account := user
	if account == "" {
		account = username
	}
	v := ss.s.cfg.Throttle.Check(ss.c.ip, account, func() bool { return user != "" && ss.s.cfg.Accounts.Authenticate(username, password) })
	if v.Blocked {
		ss.c.trace.Meta("login refused without checking the password: %s", v.Message())
		return no(imap.ResponseCodeUnavailable, "%s", v.Message())
	}
	if !v.OK {
		ss.c.trace.Meta("login failed for %q; answering after %s", username, v.Delay)
		time.Sleep(v.Delay)
		return imapserver.ErrAuthFailed
	}
	mb, err := maildir.OpenMailbox(ss.s.cfg.MailRoot(user))
	if err != nil {
		ss.s.log.Error("imap open mailbox", "session", ss.c.trace.Session, "user", user, "err", err)
		return no(imap.ResponseCodeUnavailable, "the mailbox cannot be opened right now; try again later")
	}
	ss.user, ss.mb = user, mb
	ss.c.authed.Store(true)
	ss.c.trace.Meta("%s logged in", user)
	ss.s.log.Info("imap login", "session", ss.c.trace.Session, "user", user)
	return nil
}

// AuthenticateMechanisms lists the SASL mechanisms: PLAIN (RFC 4616).
func (ss *session) AuthenticateMechanisms() []string { return []string{"PLAIN"} }

// Authenticate runs AUTHENTICATE PLAIN through go-sasl. It refuses before
// the client sends anything when the password would travel in clear.
func (ss *session) Authenticate(mech string) (sasl.Server, error) {
	if mech != "PLAIN" {
		return nil, no("", "SASL mechanism %s is not supported; use AUTHENTICATE PLAIN", mech)
	}
	if !ss.c.clearTextOK() {
		return nil, no(imap.ResponseCodePrivacyRequired, "a password may not be sent in clear over this connection; use STARTTLS first")
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return no(imap.ResponseCodeAuthorizationFailed, "logging in as another user (authorization identity) is not supported")
		}
		return ss.Login(username, password)
	}), nil
}

// AppendLimit is advertised as APPENDLIMIT.
func (ss *session) AppendLimit() uint32 { return ss.s.cfg.AppendLimit }

// Namespace: one personal namespace, "." as the hierarchy delimiter, as in
// every Maildir++ store.
func (ss *session) Namespace() (*imap.NamespaceData, error) {
	return &imap.NamespaceData{Personal: []imap.NamespaceDescriptor{{Prefix: "", Delim: maildir.Delim}}}, nil
}

// mapErr turns maildir errors into NO replies with response codes a client
// can act on.
func mapErr(err error) error {
	var ie *imap.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie):
		return err
	case errors.Is(err, maildir.ErrNoFolder):
		return no(imap.ResponseCodeNonExistent, "%v", trimPrefix(err))
	case errors.Is(err, maildir.ErrExistsF):
		return no(imap.ResponseCodeAlreadyExists, "%v", trimPrefix(err))
	case errors.Is(err, maildir.ErrBadName):
		return no(imap.ResponseCodeCannot, "%v", trimPrefix(err))
	case errors.Is(err, maildir.ErrInbox):
		return no(imap.ResponseCodeCannot, "INBOX cannot be deleted")
	case errors.Is(err, maildir.ErrGone):
		return no(imap.ResponseCodeNonExistent, "the mailbox was deleted or renamed by another session")
	}
	return err
}

func trimPrefix(err error) string {
	s := err.Error()
	if len(s) > 9 && s[:9] == "maildir: " {
		return s[9:]
	}
	return s
}

func (ss *session) Create(name string, _ *imap.CreateOptions) error {
	return mapErr(ss.mb.Create(name))
}

func (ss *session) Delete(name string) error {
	return mapErr(ss.mb.Delete(name))
}

func (ss *session) Rename(from, to string, _ *imap.RenameOptions) error {
	return mapErr(ss.mb.Rename(from, to))
}

func (ss *session) Subscribe(name string) error { return mapErr(ss.mb.Subscribe(name)) }

func (ss *session) Unsubscribe(name string) error { return mapErr(ss.mb.Unsubscribe(name)) }

// List answers LIST and LSUB with the Maildir++ folders, their special use
// (\Sent, \Drafts, \Trash) and children.
func (ss *session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	if len(patterns) == 0 {
		// LIST "" "": the hierarchy delimiter and root (RFC 9051 §6.3.9).
		return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: maildir.Delim})
	}
	folders, err := ss.mb.List()
	if err != nil {
		return err
	}
	for _, fi := range folders {
		match := false
		for _, p := range patterns {
			if imapserver.MatchList(fi.Name, maildir.Delim, ref, p) {
				match = true
				break
			}
		}
		if !match || options.SelectSubscribed && !fi.Subscribed || options.SelectSpecialUse && fi.SpecialUse == "" {
			continue
		}
		d := imap.ListData{Mailbox: fi.Name, Delim: maildir.Delim}
		if fi.NoSelect {
			d.Attrs = append(d.Attrs, imap.MailboxAttrNoSelect)
		}
		if fi.Children {
			d.Attrs = append(d.Attrs, imap.MailboxAttrHasChildren)
		} else {
			d.Attrs = append(d.Attrs, imap.MailboxAttrHasNoChildren)
		}
		if fi.Subscribed && (options.SelectSubscribed || options.ReturnSubscribed) {
			d.Attrs = append(d.Attrs, imap.MailboxAttrSubscribed)
		}
		if fi.SpecialUse != "" {
			d.Attrs = append(d.Attrs, imap.MailboxAttr(fi.SpecialUse))
		}
		if options.ReturnStatus != nil && !fi.NoSelect {
			if st, err := ss.Status(fi.Name, options.ReturnStatus); err == nil {
				d.Status = st
			}
		}
		if err := w.WriteList(&d); err != nil {
			return err
		}
	}
	return nil
}

func (ss *session) Status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	f, err := ss.mb.Folder(name)
	if err != nil {
		return nil, mapErr(err)
	}
	st, err := f.Status()
	if err != nil {
		return nil, mapErr(err)
	}
	canon, _ := maildir.CheckName(name)
	d := &imap.StatusData{Mailbox: canon}
	if options.NumMessages {
		d.NumMessages = &st.Messages
	}
	if options.UIDNext {
		d.UIDNext = imap.UID(st.UIDNext)
	}
	if options.UIDValidity {
		d.UIDValidity = st.UIDValidity
	}
	if options.NumUnseen {
		d.NumUnseen = &st.Unseen
	}
	if options.NumDeleted {
		d.NumDeleted = &st.Deleted
	}
	if options.NumRecent {
		d.NumRecent = &st.Recent
	}
	if options.Size {
		d.Size = &st.Size
	}
	return d, nil
}

// Select opens a folder. SELECT (not EXAMINE) moves new mail to cur/, as a
// Maildir reader that has shown it to the user must.
func (ss *session) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	f, err := ss.mb.Folder(name)
	if err != nil {
		return nil, mapErr(err)
	}
	mt, err := ss.s.tracker(f)
	if err != nil {
		return nil, mapErr(err)
	}
	pre, err := f.Status()
	if err != nil {
		return nil, mapErr(err)
	}
	if !options.ReadOnly {
		if err := f.SeeNew(); err != nil {
			return nil, mapErr(err)
		}
	}
	canon, _ := maildir.CheckName(name)
	sel := &selected{name: canon, f: f, readOnly: options.ReadOnly}
	var d *imap.SelectData
	f.View(func(msgs []*maildir.Message) {
		// Taken with the folder locked: the tracker's count and the EXISTS
		// sent to the client are the same number.
		sel.st = mt.NewSession()
		d = &imap.SelectData{
			Flags:          permanentFlags,
			PermanentFlags: permanentFlags,
			NumMessages:    uint32(len(msgs)),
			NumRecent:      pre.Recent,
			UIDValidity:    pre.UIDValidity,
		}
		next := pre.UIDNext
		for i, m := range msgs {
			if d.FirstUnseenSeqNum == 0 && m.Flags&maildir.Seen == 0 {
				d.FirstUnseenSeqNum = uint32(i + 1)
			}
			if m.UID >= next {
				next = m.UID + 1
			}
		}
		d.UIDNext = imap.UID(next)
	})
	ss.sel = sel
	ss.c.trace.Meta("%s selected %s (%d messages)", ss.user, canon, d.NumMessages)
	return d, nil
}

func (ss *session) Unselect() error {
	if ss.sel != nil {
		ss.sel.st.Close()
		ss.sel = nil
	}
	return nil
}

// Append stores a message from the client (a sent message saved to Sent,
// a draft). A missing folder gets [TRYCREATE], so clients create it.
func (ss *session) Append(name string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	f, err := ss.mb.Folder(name)
	if err != nil {
		if errors.Is(err, maildir.ErrNoFolder) {
			return nil, no(imap.ResponseCodeTryCreate, "no mailbox %q; CREATE it first", name)
		}
		return nil, mapErr(err)
	}
	uid, err := f.Append(r, maildirFlags(options.Flags), options.Time)
	if err != nil {
		return nil, mapErr(err)
	}
	v, err := f.UIDValidity()
	if err != nil {
		return nil, mapErr(err)
	}
	return &imap.AppendData{UID: imap.UID(uid), UIDValidity: v}, nil
}

// Poll reports what changed since the last command: the folder is checked
// on disk (two stat calls) and pending updates written.
func (ss *session) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if ss.sel == nil {
		return nil
	}
	ss.sel.f.Refresh()
	return ss.sel.st.Poll(w, allowExpunge)
}

// Idle pushes updates until the client sends DONE; the folder is watched
// meanwhile, so a delivery shows up within a second.
func (ss *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	if ss.sel == nil {
		<-stop
		return nil
	}
	watchStop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		ss.sel.f.Watch(watchStop)
	}()
	defer func() {
		close(watchStop)
		<-watched
	}()
	return ss.sel.st.Idle(w, stop)
}
