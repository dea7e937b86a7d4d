package imap

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	"github.com/mailx-edu/mailx/server/maildir"
)

// permanentFlags are the flags a Maildir file name can keep: the system
// flags and $Forwarded ("P", passed). Other keywords are not offered, so
// PERMANENTFLAGS has no \*; clients then know not to rely on them.
var permanentFlags = []imap.Flag{imap.FlagSeen, imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft, imap.FlagForwarded}

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
		if r.Start == 0 {
			r.Start = max
		}
		if r.Stop == 0 {
			r.Stop = max
		}
		if r.Start > r.Stop {
			r.Start, r.Stop = r.Stop, r.Start
		}
		out[i] = r
	}
	return out
}

func staticUID(set imap.UIDSet, max imap.UID) imap.UIDSet {
	out := make(imap.UIDSet, len(set))
	for i, r := range set {
		if r.Start == 0 {
			r.Start = max
		}
		if r.Stop == 0 {
			r.Stop = max
		}
		if r.Start > r.Stop {
			r.Start, r.Stop = r.Stop, r.Start
		}
		out[i] = r
	}
	return out
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
	needBody := options.Envelope || options.BodyStructure != nil || len(options.BodySection) > 0 ||
		len(options.BinarySection) > 0 || len(options.BinarySectionSize) > 0
	for _, t := range sel.resolve(numSet) {
		m := t.msg
		var buf []byte
		if needBody {
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
			m.Flags = cur.Flags
		}
		flagsChanged := false
		if markSeen && m.Flags&maildir.Seen == 0 {
			if out, err := sel.f.SetFlags([]uint32{m.UID}, maildir.Add, maildir.Seen, sel.st); err == nil && len(out) == 1 {
				m.Flags, flagsChanged = out[0].Flags, true
			}
		}
		rw := w.CreateMessage(t.seq)
		rw.WriteUID(imap.UID(m.UID))
		if options.Flags || flagsChanged {
			rw.WriteFlags(imapFlags(m.Flags))
		}
		if options.InternalDate {
			rw.WriteInternalDate(m.Date)
		}
		if options.RFC822Size {
			rw.WriteRFC822Size(m.Size)
		}
		if options.Envelope {
			rw.WriteEnvelope(envelope(buf))
		}
		if options.BodyStructure != nil {
			rw.WriteBodyStructure(imapserver.ExtractBodyStructure(bytes.NewReader(buf)))
		}
		for _, bs := range options.BodySection {
			b := imapserver.ExtractBodySection(bytes.NewReader(buf), bs)
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

func envelope(buf []byte) *imap.Envelope {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(buf)))
	if err != nil {
		return &imap.Envelope{}
	}
	return imapserver.ExtractEnvelope(h)
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
	out, err := sel.f.SetFlags(uids, op, maildirFlags(flags.Flags), sel.st)
	if err != nil {
		return err
	}
	ss.learnFromFlags(uids, flags) // $Junk and $NotJunk train the spam filter (junk.go)
	if flags.Silent {
		return nil
	}
	after := make(map[uint32]maildir.Flags, len(out))
	for _, m := range out {
		after[m.UID] = m.Flags
	}
	for _, t := range targets {
		f, ok := after[t.msg.UID]
		if !ok {
			continue
		}
		rw := w.CreateMessage(t.seq)
		rw.WriteUID(imap.UID(t.msg.UID))
		rw.WriteFlags(imapFlags(f))
		if err := rw.Close(); err != nil {
			return err
		}
	}
	return nil
}

// Expunge removes the messages marked \Deleted (only those in uids, for
// UID EXPUNGE). Every session, this one included, learns of it through the
// folder's tracker, so the EXPUNGE responses come in one consistent order.
func (ss *session) Expunge(_ *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	sel := ss.sel
	if sel.readOnly {
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
		return no(imap.ResponseCodeCannot, "source and destination are the same mailbox")
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
