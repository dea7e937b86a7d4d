package web

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Folder is a mailbox in the folder list.
type Folder struct {
	Name     string `json:"name"`
	Messages uint32 `json:"messages"`
	Unseen   uint32 `json:"unseen"`
	Special  string `json:"special,omitempty"` // "sent", "trash", "drafts", "junk"
}

// folders lists the mailboxes with their counts: LIST with RETURN (STATUS)
// when the server has LIST-STATUS (one command), else LIST then STATUS.
func (se *session) folders(ctx context.Context, ex *Exchange) ([]Folder, error) {
	var out []Folder
	err := se.withIMAP(ctx, ex, func(c *imapclient.Client) error {
		opts := &imap.ListOptions{}
		listStatus := c.Caps().Has(imap.CapListStatus) || c.Caps().Has(imap.CapIMAP4rev2)
		so := &imap.StatusOptions{NumMessages: true, NumUnseen: true}
		if listStatus {
			opts.ReturnStatus = so
		}
		list, err := c.List("", "*", opts).Collect()
		if err != nil {
			return err
		}
		for _, l := range list {
			if slices.Contains(l.Attrs, imap.MailboxAttrNoSelect) || slices.Contains(l.Attrs, imap.MailboxAttrNonExistent) {
				continue
			}
			f := Folder{Name: l.Mailbox, Special: special(l)}
			st := l.Status
			if st == nil {
				if st, err = c.Status(l.Mailbox, so).Wait(); err != nil {
					return err
				}
			}
			if st.NumMessages != nil {
				f.Messages = *st.NumMessages
			}
			if st.NumUnseen != nil {
				f.Unseen = *st.NumUnseen
			}
			out = append(out, f)
		}
		se.special = map[string]string{}
		for _, f := range out {
			if f.Special != "" {
				se.special[f.Special] = f.Name
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b Folder) int {
		return cmp.Or(cmp.Compare(folderRank(a), folderRank(b)), strings.Compare(a.Name, b.Name))
	})
	return out, err
}

func folderRank(f Folder) int {
	switch {
	case strings.EqualFold(f.Name, "INBOX"):
		return 0
	case f.Special == "drafts":
		return 1
	case f.Special == "sent":
		return 2
	case f.Special == "junk":
		return 3
	case f.Special == "trash":
		return 4
	}
	return 5
}

func special(l *imap.ListData) string {
	for _, a := range l.Attrs {
		switch a {
		case imap.MailboxAttrSent:
			return "sent"
		case imap.MailboxAttrTrash:
			return "trash"
		case imap.MailboxAttrDrafts:
			return "drafts"
		case imap.MailboxAttrJunk:
			return "junk"
		}
	}
	switch strings.ToLower(l.Mailbox) {
	case "sent":
		return "sent"
	case "trash":
		return "trash"
	case "drafts":
		return "drafts"
	case "junk", "spam":
		return "junk"
	}
	return ""
}

// Summary is one row of the message list.
type Summary struct {
	UID     uint32    `json:"uid"`
	Seq     uint32    `json:"-"`
	From    string    `json:"from"`
	To      string    `json:"to,omitempty"`
	Subject string    `json:"subject"`
	Date    time.Time `json:"date"`
	Size    int64     `json:"size"`
	Flags   []string  `json:"flags"`
	Seen    bool      `json:"seen"`
	Flagged bool      `json:"flagged"`
}

// ListQuery asks for one page of a folder.
type ListQuery struct {
	Folder string
	Page   int    // from 0
	Sort   string // "newest" (default) or "oldest"
	Search string // IMAP SEARCH TEXT
	Filter string // "unseen", "flagged" or ""
}

// Listing is one page of a folder.
type Listing struct {
	Folder   string    `json:"folder"`
	Total    uint32    `json:"total"`   // messages in the folder
	Matches  int       `json:"matches"` // messages matching the search (Total without one)
	Page     int       `json:"page"`
	Pages    int       `json:"pages"`
	Messages []Summary `json:"messages"`
}

// list returns one page of a folder, newest first by default, with one
// FETCH of at most a page of messages whatever the folder's size: the
// page's sequence range when nothing is searched, else the page's UIDs
// from a UID SEARCH.
func (se *session) list(ctx context.Context, ex *Exchange, q ListQuery) (*Listing, error) {
	size := se.srv.cfg.PageSize
	out := &Listing{Folder: q.Folder, Page: q.Page}
	err := se.withIMAP(ctx, ex, func(c *imapclient.Client) error {
		n32, err := se.selectFolder(c, q.Folder)
		if err != nil {
			return err
		}
		out.Total = n32
		fetch := &imap.FetchOptions{UID: true, Flags: true, Envelope: true, RFC822Size: true, InternalDate: true}
		var msgs []*imapclient.FetchMessageBuffer
		if q.Search == "" && q.Filter == "" {
			n := int(n32)
			out.Matches = n
			out.Pages = max(1, (n+size-1)/size)
			if n == 0 || q.Page >= out.Pages {
				return nil
			}
			var lo, hi int
			if q.Sort == "oldest" {
				lo, hi = q.Page*size+1, min(n, (q.Page+1)*size)
			} else {
				hi, lo = n-q.Page*size, max(1, n-(q.Page+1)*size+1)
			}
			var set imap.SeqSet
			set.AddRange(uint32(lo), uint32(hi))
			if msgs, err = c.Fetch(set, fetch).Collect(); err != nil {
				return err
			}
		} else {
			crit := &imap.SearchCriteria{}
			if q.Search != "" {
				crit.Text = []string{q.Search}
			}
			switch q.Filter {
			case "unseen":
				crit.NotFlag = []imap.Flag{imap.FlagSeen}
			case "flagged":
				crit.Flag = []imap.Flag{imap.FlagFlagged}
			}
			data, err := c.UIDSearch(crit, nil).Wait()
			if err != nil {
				return err
			}
			uids := data.AllUIDs()
			slices.Sort(uids)
			if q.Sort != "oldest" {
				slices.Reverse(uids)
			}
			out.Matches = len(uids)
			out.Pages = max(1, (len(uids)+size-1)/size)
			if q.Page >= out.Pages || len(uids) == 0 {
				return nil
			}
			page := uids[q.Page*size : min(len(uids), (q.Page+1)*size)]
			if msgs, err = c.Fetch(imap.UIDSetNum(page...), fetch).Collect(); err != nil {
				return err
			}
		}
		for _, m := range msgs {
			out.Messages = append(out.Messages, summarize(m))
		}
		slices.SortFunc(out.Messages, func(a, b Summary) int {
			if q.Sort == "oldest" {
				return cmp.Compare(a.UID, b.UID)
			}
			return cmp.Compare(b.UID, a.UID)
		})
		return nil
	})
	return out, err
}

func summarize(m *imapclient.FetchMessageBuffer) Summary {
	s := Summary{UID: uint32(m.UID), Seq: m.SeqNum, Date: m.InternalDate, Size: m.RFC822Size}
	for _, f := range m.Flags {
		s.Flags = append(s.Flags, string(f))
		switch f {
		case imap.FlagSeen:
			s.Seen = true
		case imap.FlagFlagged:
			s.Flagged = true
		}
	}
	if e := m.Envelope; e != nil {
		s.Subject = e.Subject
		s.From = addrList(e.From)
		s.To = addrList(e.To)
		if !e.Date.IsZero() {
			s.Date = e.Date
		}
	}
	return s
}

func addrList(as []imap.Address) string {
	var out []string
	for _, a := range as {
		if a.Name != "" {
			out = append(out, a.Name)
		} else {
			out = append(out, a.Addr())
		}
	}
	return strings.Join(out, ", ")
}

// open fetches a message whole (UID FETCH uid (UID FLAGS BODY.PEEK[]))
// and marks it read with a STORE, as a mail program does when it shows a
// message: PEEK keeps the fetch itself from setting \Seen, so the pane
// shows both steps.
func (se *session) open(ctx context.Context, ex *Exchange, folder string, uid uint32, markSeen bool) (*Message, error) {
	var msg *Message
	err := se.withIMAP(ctx, ex, func(c *imapclient.Client) error {
		if m := se.cached(folder, uid); m != nil {
			msg = m
			return nil
		}
		if _, err := se.selectFolder(c, folder); err != nil {
			return err
		}
		body := &imap.FetchItemBodySection{Peek: true}
		res, err := c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{UID: true, Flags: true, BodySection: []*imap.FetchItemBodySection{body}}).Collect()
		if err != nil {
			return err
		}
		if len(res) == 0 {
			return errNoMessage
		}
		var flags []string
		seen := false
		for _, f := range res[0].Flags {
			flags = append(flags, string(f))
			seen = seen || f == imap.FlagSeen
		}
		if msg, err = parseMessage(folder, uid, flags, res[0].FindBodySection(body)); err != nil {
			return err
		}
		if markSeen && !seen {
			if err := c.Store(imap.UIDSetNum(imap.UID(uid)), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
				return err
			}
			msg.Flags = append(msg.Flags, string(imap.FlagSeen))
		}
		se.remember(msg)
		return nil
	})
	return msg, err
}

var errNoMessage = fmt.Errorf("no such message (it may have been moved or deleted)")

// setFlag adds or removes a flag.
func (se *session) setFlag(ctx context.Context, ex *Exchange, folder string, uid uint32, flag imap.Flag, on bool) error {
	return se.withIMAP(ctx, ex, func(c *imapclient.Client) error {
		if _, err := se.selectFolder(c, folder); err != nil {
			return err
		}
		op := imap.StoreFlagsAdd
		if !on {
			op = imap.StoreFlagsDel
		}
		se.forget(folder)
		return c.Store(imap.UIDSetNum(imap.UID(uid)), &imap.StoreFlags{Op: op, Silent: true, Flags: []imap.Flag{flag}}, nil).Close()
	})
}

// move moves a message to another folder (MOVE, RFC 6851; COPY, STORE
// \Deleted and UID EXPUNGE on a server without it).
func (se *session) move(ctx context.Context, ex *Exchange, folder string, uid uint32, dest string) error {
	return se.withIMAP(ctx, ex, func(c *imapclient.Client) error {
		if _, err := se.selectFolder(c, folder); err != nil {
			return err
		}
		se.forget(folder)
		set := imap.UIDSetNum(imap.UID(uid))
		if c.Caps().Has(imap.CapMove) || c.Caps().Has(imap.CapIMAP4rev2) {
			_, err := c.Move(set, dest).Wait()
			return err
		}
		if _, err := c.Copy(set, dest).Wait(); err != nil {
			return err
		}
		return expunge(c, set)
	})
}

func expunge(c *imapclient.Client, set imap.UIDSet) error {
	if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		return err
	}
	return c.UIDExpunge(set).Close()
}

// remove deletes a message: a move to Trash, or for good when it is in
// Trash already.
func (se *session) remove(ctx context.Context, ex *Exchange, folder string, uid uint32) error {
	trash := se.specialFolder(ctx, ex, "trash", "Trash")
	if strings.EqualFold(folder, trash) {
		return se.withIMAP(ctx, ex, func(c *imapclient.Client) error {
			if _, err := se.selectFolder(c, folder); err != nil {
				return err
			}
			se.forget(folder)
			return expunge(c, imap.UIDSetNum(imap.UID(uid)))
		})
	}
	return se.move(ctx, ex, folder, uid, trash)
}

// specialFolder finds the folder with a special use, or def.
func (se *session) specialFolder(ctx context.Context, ex *Exchange, use, def string) string {
	se.mu.Lock()
	name, known := se.special[use]
	listed := se.special != nil
	se.mu.Unlock()
	if known {
		return name
	}
	if listed {
		return def
	}
	fs, err := se.folders(ctx, ex)
	if err != nil {
		return def
	}
	for _, f := range fs {
		if f.Special == use {
			return f.Name
		}
	}
	return def
}

// saveSent APPENDs a copy of a sent message to the Sent folder, marked read.
func (se *session) saveSent(ctx context.Context, ex *Exchange, msg []byte) error {
	sent := se.specialFolder(ctx, ex, "sent", "Sent")
	return se.withIMAP(ctx, ex, func(c *imapclient.Client) error {
		se.forget(sent)
		a := c.Append(sent, int64(len(msg)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}, Time: time.Now()})
		if _, err := a.Write(msg); err != nil {
			a.Close()
			return err
		}
		if err := a.Close(); err != nil {
			return err
		}
		_, err := a.Wait()
		return err
	})
}
