package imap

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	pimap "github.com/mailx-edu/mailx/proto/imap"
	"github.com/mailx-edu/mailx/server/maildir"
)

// systemFlags are the flags every Maildir file name can keep: the system
// flags and $Forwarded ("P", passed). Keywords are kept too, as lower-case
// letters named in the folder's dovecot-keywords file, so PERMANENTFLAGS
// ends in \* (clients may create new ones).
var systemFlags = []imap.Flag{imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft, imap.FlagForwarded}

// flagRecent is \Recent (RFC 3501 §2.3.2), which only the server sets.
const flagRecent imap.Flag = `\Recent`

// folderFlags returns SELECT's FLAGS and PERMANENTFLAGS for a folder with
// the given keywords.
func folderFlags(keywords []string) (flags, permanent []imap.Flag) {
	flags = append([]imap.Flag(nil), systemFlags...)
	for _, k := range keywords {
		if !isForwarded(k) {
			flags = append(flags, imap.Flag(k))
		}
	}
	permanent = append(append([]imap.Flag(nil), flags...), imap.FlagWildcard)
	return flags, permanent
}

func isForwarded(k string) bool { return strings.EqualFold(k, string(imap.FlagForwarded)) }

// splitFlags separates the flags a client sent into Maildir flags and
// keywords; \Recent and unknown system flags are ignored.
func splitFlags(flags []imap.Flag) (maildir.Flags, []string) {
	f := maildirFlags(flags)
	var kw []string
	for _, fl := range flags {
		if strings.HasPrefix(string(fl), `\`) || isForwarded(string(fl)) {
			continue
		}
		kw = append(kw, string(fl))
	}
	return f, kw
}

// flagList is what FETCH FLAGS shows for a message in this session.
func (sel *selected) flagList(f maildir.Flags, keywords []string, uid uint32) []imap.Flag {
	out := imapFlags(f)
	if sel.recent.Contains(imap.UID(uid)) {
		out = append(out, flagRecent)
	}
	for _, k := range keywords {
		out = append(out, imap.Flag(k))
	}
	return out
}

var flagMap = []struct {
	m maildir.Flags
	i imap.Flag
}{
	{maildir.Seen, imap.FlagSeen}, {maildir.Replied, imap.FlagAnswered}, {maildir.Flagged, imap.FlagFlagged},
	{maildir.Trashed, imap.FlagDeleted}, {maildir.Draft, imap.FlagDraft}, {maildir.Passed, imap.FlagForwarded},
}

// imapFlags converts Maildir info flags to IMAP flags.
func imapFlags(f maildir.Flags) []imap.Flag {
	out := []imap.Flag{}
	for _, e := range flagMap {
		if f&e.m != 0 {
			out = append(out, e.i)
		}
	}
	return out
}

// maildirFlags converts IMAP flags to Maildir info flags, ignoring
// keywords a file name cannot keep.
func maildirFlags(flags []imap.Flag) maildir.Flags {
	var f maildir.Flags
	for _, fl := range flags {
		for _, e := range flagMap {
			if strings.EqualFold(string(fl), string(e.i)) {
				f |= e.m
			}
		}
	}
	return f
}

// target is one message a command applies to.
type target struct {
	seq uint32 // as the client knows it
	msg maildir.Message
}

// resolve turns a client's sequence or UID set into messages, with the
// folder locked only while the list is read: no network write ever happens
// under the folder lock, so one slow client cannot stall deliveries.
func (sel *selected) resolve(numSet imap.NumSet) []target {
	var out []target
	sel.f.View(func(msgs []*maildir.Message) {
		// The highest number the client knows, for "*".
		var maxSeq uint32
		for i := len(msgs); i > 0 && maxSeq == 0; i-- {
			maxSeq = sel.st.EncodeSeqNum(uint32(i))
		}
		var maxUID imap.UID
		if len(msgs) > 0 {
			maxUID = imap.UID(msgs[len(msgs)-1].UID)
		}
		switch set := numSet.(type) {
		case imap.SeqSet:
			set = staticSeq(set, maxSeq)
			for i, m := range msgs {
				seq := sel.st.EncodeSeqNum(uint32(i + 1))
				if seq != 0 && set.Contains(seq) {
					out = append(out, target{seq, *m})
				}
			}
		case imap.UIDSet:
			set = staticUID(set, maxUID)
			for i, m := range msgs {
				if !set.Contains(imap.UID(m.UID)) {
					continue
				}
				if seq := sel.st.EncodeSeqNum(uint32(i + 1)); seq != 0 {
					out = append(out, target{seq, *m})
				}
			}
		}
	})
	return out
}

// staticSeq replaces "*" (0 in go-imap's sets) by the highest number.
func staticSeq(set imap.SeqSet, max uint32) imap.SeqSet {
	out := make(imap.SeqSet, len(set))
	for i, r := range set {
		out[i].Start, out[i].Stop = staticRange(r.Start, r.Stop, max)
	}
	return out
}

// staticUID is staticSeq for UID sets.
func staticUID(set imap.UIDSet, max imap.UID) imap.UIDSet {
	out := make(imap.UIDSet, len(set))
	for i, r := range set {
		start, stop := staticRange(uint32(r.Start), uint32(r.Stop), uint32(max))
		out[i] = imap.UIDRange{Start: imap.UID(start), Stop: imap.UID(stop)}
	}
	return out
}

// staticRange is one range of a set with "*" (0) replaced by max and its
// ends in order: RFC 9051 §6.4.4 lets a client write 5:2 for 2:5.
func staticRange(start, stop, max uint32) (uint32, uint32) {
	if start == 0 {
		start = max
	}
	if stop == 0 {
		stop = max
	}
	if start > stop {
		start, stop = stop, start
	}
	return start, stop
}

func readOnlyErr() error {
	return no("READ-ONLY", "the mailbox is open read-only (EXAMINE); SELECT it to change it")
}

// Fetch answers FETCH. Items the index knows (FLAGS, UID, RFC822.SIZE,
// INTERNALDATE) need no file access, so FETCH 1:* (FLAGS) on 10,000
// messages reads no message; ENVELOPE, BODYSTRUCTURE and BODY[...] read the
// file, with go-imap's helpers doing the MIME work.
func (ss *session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	sel := ss.sel
	markSeen := false
	for _, bs := range options.BodySection {
		if !bs.Peek {
			markSeen = true
		}
	}
	for _, bs := range options.BinarySection {
		if !bs.Peek {
			markSeen = true
		}
	}
	markSeen = markSeen && !sel.readOnly
	kwOf := sel.f.KeywordNamer()
	if options.Flags {
		ss.announceKeywords()
	}
	needMeta := options.Envelope || options.BodyStructure != nil
	needBody := len(options.BodySection) > 0 || len(options.BinarySection) > 0 || len(options.BinarySectionSize) > 0
	// Header sections alone (HEADER, HEADER.FIELDS, RFC822.HEADER) can be
	// cut from the cached header without opening the file.
	headerOnly := needBody && len(options.BinarySection) == 0 && len(options.BinarySectionSize) == 0
	for _, bs := range options.BodySection {
		if bs.Specifier != imap.PartSpecifierHeader || len(bs.Part) > 0 {
			headerOnly = false
		}
	}
	if headerOnly {
		needMeta = true
	}
	for _, t := range sel.resolve(numSet) {
		m := t.msg
		var buf []byte
		var md *meta
		metaKey := ""
		if needMeta {
			metaKey = sel.f.Dir() + "\x00" + m.Key
			md = ss.s.meta.get(metaKey)
		}
		if headerOnly && md != nil && md.header != nil {
			buf = md.header
		} else if needBody || needMeta && md == nil {
			rc, cur, err := sel.f.Open(m.UID)
			if errors.Is(err, maildir.ErrNoMessage) {
				continue // expunged meanwhile by another session
			}
			if err != nil {
				return err
			}
			buf, err = io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return err
			}
			m.Flags, m.Extra = cur.Flags, cur.Extra
		}
		if needMeta && md == nil {
			md = computeMeta(buf)
			ss.s.meta.put(metaKey, md)
		}
		flagsChanged := false
		if markSeen && m.Flags&maildir.Seen == 0 {
			if out, err := sel.f.SetFlags([]uint32{m.UID}, maildir.Add, maildir.Seen, sel.st); err == nil && len(out) == 1 {
				m.Flags, m.Extra, flagsChanged = out[0].Flags, out[0].Extra, true
			}
		}
		rw := w.CreateMessage(t.seq)
		rw.WriteUID(imap.UID(m.UID))
		if options.Flags || flagsChanged {
			rw.WriteFlags(sel.flagList(m.Flags, kwOf(m.Extra), m.UID))
		}
		if options.InternalDate {
			rw.WriteInternalDate(m.Date)
		}
		if options.RFC822Size {
			rw.WriteRFC822Size(m.Size)
		}
		if options.Envelope {
			rw.WriteEnvelope(md.env)
		}
		if options.BodyStructure != nil {
			rw.WriteBodyStructure(md.bs)
		}
		for _, bs := range options.BodySection {
			var b []byte
			if len(bs.Part) <= maxDepth {
				// Deeper parts are inside what BODYSTRUCTURE shows as
				// one opaque part; looking for them would cost time
				// quadratic in the depth.
				b = imapserver.ExtractBodySection(bytes.NewReader(buf), bs)
			}
			if err := writeLiteral(rw.WriteBodySection(bs, int64(len(b))), b); err != nil {
				return err
			}
		}
		for _, bs := range options.BinarySection {
			b := imapserver.ExtractBinarySection(bytes.NewReader(buf), bs)
			if err := writeLiteral(rw.WriteBinarySection(bs, int64(len(b))), b); err != nil {
				return err
			}
		}
		for _, bss := range options.BinarySectionSize {
			rw.WriteBinarySectionSize(bss, imapserver.ExtractBinarySectionSize(bytes.NewReader(buf), bss))
		}
		if err := rw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// envelope builds ENVELOPE as Dovecot does: the subject and the names as
// written (encoded-words are the client's to decode), and address lists
// with RFC 5322 groups, which go-imap's helper drops.
func envelope(buf []byte) *imap.Envelope {
	h, ok := headerOf(buf)
	if !ok {
		return &imap.Envelope{}
	}
	return envelopeOf(h)
}

// rawField returns a header field's value unfolded but otherwise as
// written. Octets that are not UTF-8 (a raw Latin-1 subject) are read as
// Latin-1, the usual intent, so the client gets readable text.
func rawField(h textproto.Header, key string) string {
	if !h.Has(key) {
		return ""
	}
	v := h.Get(key)
	v = strings.NewReplacer("\r\n", "", "\n", "", "\r", "").Replace(v)
	v = strings.TrimSpace(v)
	if !utf8.ValidString(v) {
		r := make([]rune, 0, len(v))
		for i := 0; i < len(v); i++ {
			r = append(r, rune(v[i]))
		}
		v = string(r)
	}
	return v
}

func addressList(h textproto.Header, key string) []imap.Address {
	v := rawField(h, key)
	if v == "" {
		return nil
	}
	var out []imap.Address
	for _, a := range pimap.ParseAddressList(v) {
		switch {
		case a.IsGroupEnd():
			out = append(out, imap.Address{})
		case a.Group:
			out = append(out, imap.Address{Mailbox: a.Mailbox})
		default:
			out = append(out, imap.Address{Name: routeName(a.Route, a.Name), Mailbox: a.Mailbox, Host: a.Host})
		}
	}
	return out
}

func writeLiteral(wc io.WriteCloser, b []byte) error {
	_, err := wc.Write(b)
	if cerr := wc.Close(); err == nil {
		err = cerr
	}
	return err
}

// Store answers STORE: flags are renamed into the files at once, other
// sessions are told, and unless .SILENT the new flags are returned.
func (ss *session) Store(w *imapserver.FetchWriter, numSet imap.NumSet, flags *imap.StoreFlags, _ *imap.StoreOptions) error {
	sel := ss.sel
	if sel.readOnly {
		return readOnlyErr()
	}
	op := map[imap.StoreFlagsOp]maildir.Op{imap.StoreFlagsAdd: maildir.Add, imap.StoreFlagsDel: maildir.Remove, imap.StoreFlagsSet: maildir.Replace}[flags.Op]
	targets := sel.resolve(numSet)
	uids := make([]uint32, len(targets))
	for i, t := range targets {
		uids[i] = t.msg.UID
	}
	mf, kw := splitFlags(flags.Flags)
	out, err := sel.f.SetFlagsKeywords(uids, op, mf, kw, sel.st)
	if errors.Is(err, maildir.ErrTooManyKeywords) {
		return no(imap.ResponseCodeLimit, "this mailbox already has %d keywords, as many as it can keep; remove one from every message first", maildir.MaxKeywords)
	}
	if err != nil {
		return err
	}
	ss.announceKeywords()
	kwOf := sel.f.KeywordNamer()
	ss.learnFromFlags(uids, flags) // $Junk and $NotJunk train the spam filter (junk.go)
	if flags.Silent {
		return nil
	}
	after := make(map[uint32]maildir.Message, len(out))
	for _, m := range out {
		after[m.UID] = m
	}
	for _, t := range targets {
		m, ok := after[t.msg.UID]
		if !ok {
			continue
		}
		rw := w.CreateMessage(t.seq)
		rw.WriteUID(imap.UID(t.msg.UID))
		rw.WriteFlags(sel.flagList(m.Flags, kwOf(m.Extra), m.UID))
		if err := rw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// Expunge removes the messages marked \Deleted (only those in uids, for
// UID EXPUNGE). Every session, this one included, learns of it through the
// folder's tracker, so the EXPUNGE responses come in one consistent order.
func (ss *session) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	sel := ss.sel
	if sel.readOnly {
		if w == nil || *w == (imapserver.ExpungeWriter{}) {
			// CLOSE (go-imap passes it a writer without a connection)
			// after EXAMINE removes nothing and succeeds (RFC 9051 §6.4.1).
			return nil
		}
		return readOnlyErr()
	}
	var list []uint32
	sel.f.View(func(msgs []*maildir.Message) {
		for _, m := range msgs {
			if m.Flags&maildir.Trashed != 0 && (uids == nil || uids.Contains(imap.UID(m.UID))) {
				list = append(list, m.UID)
			}
		}
	})
	_, err := sel.f.Expunge(list, sel.st)
	return err
}

// destFolder opens the target of COPY or MOVE; a missing one gets
// [TRYCREATE] so the client can create it and retry.
func (ss *session) destFolder(name string) (*maildir.Folder, error) {
	f, err := ss.mb.Folder(name)
	if errors.Is(err, maildir.ErrNoFolder) {
		return nil, no(imap.ResponseCodeTryCreate, "no mailbox %q; CREATE it first", name)
	}
	return f, mapErr(err)
}

func (ss *session) copyTargets(numSet imap.NumSet, df *maildir.Folder) (*imap.CopyData, error) {
	sel := ss.sel
	var uids []uint32
	for _, t := range sel.resolve(numSet) {
		uids = append(uids, t.msg.UID)
	}
	src, dst, err := sel.f.CopyTo(uids, df)
	if err != nil {
		return nil, err
	}
	ss.learnFromCopy(src, df) // the spam filter learns from moves into and out of Junk (junk.go)
	v, err := df.UIDValidity()
	if err != nil {
		return nil, mapErr(err)
	}
	d := &imap.CopyData{UIDValidity: v}
	for i := range src {
		d.SourceUIDs.AddNum(imap.UID(src[i]))
		d.DestUIDs.AddNum(imap.UID(dst[i]))
	}
	return d, nil
}

// Copy answers COPY with COPYUID (UIDPLUS). Files are hard-linked.
func (ss *session) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	df, err := ss.destFolder(dest)
	if err != nil {
		return nil, err
	}
	return ss.copyTargets(numSet, df)
}

// Move answers MOVE (RFC 6851): a copy, then an expunge of the originals,
// whose EXPUNGE responses follow the COPYUID response.
func (ss *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	sel := ss.sel
	if sel.readOnly {
		return readOnlyErr()
	}
	df, err := ss.destFolder(dest)
	if err != nil {
		return err
	}
	if df == sel.f {
		return ss.moveWithin(w, numSet)
	}
	d, err := ss.copyTargets(numSet, df)
	if err != nil {
		return err
	}
	if err := w.WriteCopyData(d); err != nil {
		return err
	}
	uids, _ := d.SourceUIDs.Nums()
	list := make([]uint32, len(uids))
	for i, u := range uids {
		list[i] = uint32(u)
	}
	_, err = sel.f.Expunge(list, sel.st)
	return err
}

// moveWithin answers MOVE into the selected mailbox itself: the messages
// get new UIDs at the end (COPYUID says which), the old ones are expunged.
func (ss *session) moveWithin(w *imapserver.MoveWriter, numSet imap.NumSet) error {
	sel := ss.sel
	var uids []uint32
	for _, t := range sel.resolve(numSet) {
		uids = append(uids, t.msg.UID)
	}
	from, to, err := sel.f.Renumber(uids, sel.st)
	if len(from) > 0 {
		v, verr := sel.f.UIDValidity()
		if verr != nil {
			return mapErr(verr)
		}
		d := &imap.CopyData{UIDValidity: v}
		for i := range from {
			d.SourceUIDs.AddNum(imap.UID(from[i]))
			d.DestUIDs.AddNum(imap.UID(to[i]))
		}
		if werr := w.WriteCopyData(d); werr != nil {
			return werr
		}
	}
	return err
}
