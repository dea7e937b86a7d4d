package imap

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"syscall"
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
	// idling is held while Idle runs: go-imap returns from an IDLE ended
	// by EOF without waiting for Idle, so Close takes it before it tears
	// the session down (Idle ends promptly then: its stop is closed).
	idling sync.Mutex
}

// selected is the folder a session has selected, with this session's view
// of it (go-imap's SessionTracker translates sequence numbers while other
// sessions' changes are still pending for this client).
type selected struct {
	name     string
	f        *maildir.Folder
	st       *imapserver.SessionTracker
	readOnly bool
	// recent are the UIDs that are \Recent in this session; recentTo is
	// the UID up to which it has claimed them.
	recent   imap.UIDSet
	recentTo uint32
	// knownKeywords is how many keywords the client was told of in FLAGS.
	knownKeywords int
}

// announceKeywords tells the client of keywords created since it was last
// told, before any FETCH shows them.
func (ss *session) announceKeywords() {
	sel := ss.sel
	table := sel.f.KeywordTable()
	if len(table) <= sel.knownKeywords {
		return
	}
	sel.knownKeywords = len(table)
	flags, permanent := folderFlags(table)
	ss.c.inject("* FLAGS ("+joinFlags(flags)+")", "* OK [PERMANENTFLAGS ("+joinFlags(permanent)+")] Flags permitted")
}

func joinFlags(flags []imap.Flag) string {
	s := make([]string, len(flags))
	for i, f := range flags {
		s[i] = string(f)
	}
	return strings.Join(s, " ")
}

// claimRecent adds the messages no session has seen yet to this session's
// \Recent set, and reports whether there were any.
func (sel *selected) claimRecent() bool {
	from, to := sel.f.ClaimRecent(!sel.readOnly)
	if from < sel.recentTo {
		from = sel.recentTo
	}
	if to <= from {
		return false
	}
	sel.recent.AddRange(imap.UID(from), imap.UID(to-1))
	sel.recentTo = to
	return true
}

// countRecent counts this session's \Recent messages still in msgs.
func (sel *selected) countRecent(msgs []*maildir.Message) uint32 {
	var n uint32
	for _, m := range msgs {
		if sel.recent.Contains(imap.UID(m.UID)) {
			n++
		}
	}
	return n
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
	s.sessions.Add(1)
	return &session{s: s, c: c}, nil, nil
}

func (ss *session) Close() error {
	defer ss.s.sessions.Done()
	ss.idling.Lock()
	defer ss.idling.Unlock()
	if ss.sel != nil {
		ss.sel.st.Close()
		ss.sel = nil
	}
	if ss.mb != nil {
		// Dovecot's copy of the UIDs, which busy folders update at most
		// once a second, is brought up to date when a session ends.
		maildir.FlushDovecotUnder(ss.mb.Root())
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
	for _, m := range mb.Migrated {
		ss.s.log.Info("imap: folder directory renamed to modified UTF-7, as Dovecot and Courier name them", "user", user, "rename", m)
	}
	mb.SetSettler(ss.s.cfg.Settler)
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
	case errors.Is(err, syscall.ENOSPC):
		return no(imap.ResponseCodeLimit, "the server's disk is full; try again later")
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

// Create makes a folder. A trailing hierarchy delimiter ("Archive.") only
// declares that names will be created below it (RFC 9051 §6.3.4): the
// folder is created, and one that exists already is fine.
func (ss *session) Create(name string, _ *imap.CreateOptions) error {
	if trimmed := strings.TrimRight(name, string(maildir.Delim)); trimmed != name && trimmed != "" {
		err := ss.mb.Create(trimmed)
		if errors.Is(err, maildir.ErrExistsF) {
			return nil
		}
		return mapErr(err)
	}
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
	if options.SelectSubscribed {
		if isLSub(w) {
			return ss.lsub(w, ref, patterns)
		}
		return ss.listSubscribed(w, ref, patterns, options)
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

// lsub answers LSUB from the subscription list: subscribed names match
// whether their folder exists or not, and a level that is not subscribed
// but has subscribed names below it is listed \Noselect when "%" stops at
// it (RFC 3501 §6.3.9).
func (ss *session) lsub(w *imapserver.ListWriter, ref string, patterns []string) error {
	subs := ss.mb.Subscriptions()
	isSub := make(map[string]bool, len(subs))
	for _, n := range subs {
		isSub[n] = true
	}
	match := func(name string) bool {
		for _, p := range patterns {
			if imapserver.MatchList(name, maildir.Delim, ref, p) {
				return true
			}
		}
		return false
	}
	done := map[string]bool{}
	for _, n := range subs {
		if match(n) && !done[n] {
			done[n] = true
			if err := w.WriteList(&imap.ListData{Mailbox: n, Delim: maildir.Delim}); err != nil {
				return err
			}
		}
		for i := strings.IndexByte(n, maildir.Delim); i > 0; i = nextDelim(n, i) {
			parent := n[:i]
			// Only where the pattern stops at the level ("%"): with "*"
			// the subscribed name itself is listed.
			if isSub[parent] || done[parent] || !match(parent) || match(n) {
				continue
			}
			done[parent] = true
			if err := w.WriteList(&imap.ListData{Mailbox: parent, Delim: maildir.Delim, Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}}); err != nil {
				return err
			}
		}
	}
	return nil
}

// isLSub tells LSUB from LIST (SUBSCRIBED), which go-imap hands to List
// alike; its ListWriter records which in an unexported field.
func isLSub(w *imapserver.ListWriter) bool {
	v := reflect.ValueOf(w).Elem().FieldByName("lsub")
	return v.IsValid() && v.Kind() == reflect.Bool && v.Bool()
}

// listSubscribed answers LIST (SUBSCRIBED [RECURSIVEMATCH]) (RFC 5258
// §3): subscribed names, existing or not (\NonExistent), with \Subscribed;
// with RECURSIVEMATCH also each matching name that is not subscribed but
// has a subscribed name below it, with CHILDINFO ("SUBSCRIBED").
func (ss *session) listSubscribed(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	folders, err := ss.mb.List()
	if err != nil {
		return err
	}
	info := make(map[string]maildir.FolderInfo, len(folders))
	for _, fi := range folders {
		info[fi.Name] = fi
	}
	subs := ss.mb.Subscriptions()
	match := func(name string) bool {
		for _, p := range patterns {
			if imapserver.MatchList(name, maildir.Delim, ref, p) {
				return true
			}
		}
		return false
	}
	attrs := func(name string) []imap.MailboxAttr {
		fi, ok := info[name]
		if !ok {
			return []imap.MailboxAttr{imap.MailboxAttrNonExistent}
		}
		var a []imap.MailboxAttr
		if fi.NoSelect {
			a = append(a, imap.MailboxAttrNoSelect)
		}
		if options.ReturnChildren {
			if fi.Children {
				a = append(a, imap.MailboxAttrHasChildren)
			} else {
				a = append(a, imap.MailboxAttrHasNoChildren)
			}
		}
		if options.ReturnSpecialUse && fi.SpecialUse != "" {
			a = append(a, imap.MailboxAttr(fi.SpecialUse))
		}
		return a
	}
	isSub := map[string]bool{}
	for _, n := range subs {
		isSub[n] = true
		if !match(n) {
			continue
		}
		if err := w.WriteList(&imap.ListData{Mailbox: n, Delim: maildir.Delim, Attrs: append(attrs(n), imap.MailboxAttrSubscribed)}); err != nil {
			return err
		}
	}
	if !options.SelectRecursiveMatch {
		return nil
	}
	done := map[string]bool{}
	for _, n := range subs {
		if match(n) {
			continue // listed itself: its parents need no CHILDINFO for it
		}
		for i := strings.IndexByte(n, maildir.Delim); i > 0; i = nextDelim(n, i) {
			parent := n[:i]
			if isSub[parent] || done[parent] || !match(parent) {
				continue
			}
			done[parent] = true
			d := &imap.ListData{Mailbox: parent, Delim: maildir.Delim, Attrs: attrs(parent), ChildInfo: &imap.ListDataChildInfo{Subscribed: true}}
			if err := w.WriteList(d); err != nil {
				return err
			}
		}
	}
	return nil
}

func nextDelim(s string, i int) int {
	j := strings.IndexByte(s[i+1:], maildir.Delim)
	if j < 0 {
		return -1
	}
	return i + 1 + j
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
	sel.claimRecent()
	table := f.KeywordTable()
	sel.knownKeywords = len(table)
	flags, permanent := folderFlags(table)
	var d *imap.SelectData
	f.View(func(msgs []*maildir.Message) {
		// Taken with the folder locked: the tracker's count and the EXISTS
		// sent to the client are the same number.
		sel.st = mt.NewSession()
		d = &imap.SelectData{
			Flags:          flags,
			PermanentFlags: permanent,
			NumMessages:    uint32(len(msgs)),
			NumRecent:      sel.countRecent(msgs),
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
		ss.sel.f.FlushDovecot()
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
	if cfg := ss.s.cfg; cfg.MinFreeDisk > 0 && cfg.DiskFree != nil {
		if free, err := cfg.DiskFree(); err == nil && free < cfg.MinFreeDisk+uint64(r.Size()) {
			ss.s.log.Warn("imap append refused: disk nearly full", "session", ss.c.trace.Session, "free", free, "size", r.Size())
			ss.c.trace.Meta("APPEND refused: %d octets free on the data directory's disk, %d must stay free", free, cfg.MinFreeDisk)
			return nil, no(imap.ResponseCodeLimit, "the server's disk is nearly full; try again later, or delete messages you no longer need")
		}
	}
	mf, kw := splitFlags(options.Flags)
	uid, err := f.AppendKeywords(r, mf, kw, options.Time)
	if errors.Is(err, maildir.ErrTooManyKeywords) {
		return nil, no(imap.ResponseCodeLimit, "mailbox %q already has %d keywords, as many as it can keep", name, maildir.MaxKeywords)
	}
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
	ss.sel.f.RefreshSoon()
	if err := ss.sel.st.Poll(w, allowExpunge); err != nil {
		return err
	}
	if ss.sel.claimRecent() {
		// New messages arrived: RFC 3501 §7.3.2 sends RECENT after EXISTS.
		var n uint32
		ss.sel.f.View(func(msgs []*maildir.Message) { n = ss.sel.countRecent(msgs) })
		return w.WriteNumRecent(n)
	}
	return nil
}

// Idle pushes updates until the client sends DONE; the folder is watched
// meanwhile, so a delivery shows up within a second.
func (ss *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	ss.idling.Lock()
	defer ss.idling.Unlock()
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
