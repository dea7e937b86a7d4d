package imap

import (
	"bytes"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"

	pimap "github.com/mailx-edu/mailx/proto/imap"
)

// Search answers SEARCH and UID SEARCH. Criteria on flags, sizes, dates and
// numbers use the index; header and text criteria read the message, once,
// only for messages the cheap criteria left in.
func (ss *session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, _ *imap.SearchOptions) (*imap.SearchData, error) {
	sel := ss.sel
	all := sel.resolve(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}})
	var maxSeq uint32
	var maxUID imap.UID
	if n := len(all); n > 0 {
		maxSeq, maxUID = all[n-1].seq, imap.UID(all[n-1].msg.UID)
	}
	staticCriteria(criteria, maxSeq, maxUID)
	d := &imap.SearchData{}
	var seqs imap.SeqSet
	var uids imap.UIDSet
	kwOf := sel.f.KeywordNamer()
	for _, t := range all {
		mm := &matcher{sel: sel, t: t, kwOf: kwOf}
		if !mm.match(criteria) {
			continue
		}
		num := t.seq
		if kind == imapserver.NumKindUID {
			num = t.msg.UID
			uids.AddNum(imap.UID(num))
		} else {
			seqs.AddNum(num)
		}
		if d.Min == 0 || num < d.Min {
			d.Min = num
		}
		if num > d.Max {
			d.Max = num
		}
		d.Count++
	}
	if kind == imapserver.NumKindUID {
		d.All = uids
	} else {
		d.All = seqs
	}
	return d, nil
}

// staticCriteria replaces "*" in number sets, recursively.
func staticCriteria(c *imap.SearchCriteria, maxSeq uint32, maxUID imap.UID) {
	for i := range c.SeqNum {
		c.SeqNum[i] = staticSeq(c.SeqNum[i], maxSeq)
	}
	for i := range c.UID {
		c.UID[i] = staticUID(c.UID[i], maxUID)
	}
	for i := range c.Not {
		staticCriteria(&c.Not[i], maxSeq, maxUID)
	}
	for i := range c.Or {
		staticCriteria(&c.Or[i][0], maxSeq, maxUID)
		staticCriteria(&c.Or[i][1], maxSeq, maxUID)
	}
}

// matcher evaluates criteria against one message, reading its content at
// most once and only if a criterion needs it.
type matcher struct {
	sel    *selected
	kwOf   func(extra string) []string
	t      target
	loaded bool
	buf    []byte
}

func (mm *matcher) content() []byte {
	if !mm.loaded {
		mm.loaded = true
		if rc, _, err := mm.sel.f.Open(mm.t.msg.UID); err == nil {
			mm.buf, _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	return mm.buf
}

func (mm *matcher) entity() *gomessage.Entity {
	e, err := gomessage.Read(bytes.NewReader(mm.content()))
	if e == nil {
		e, _ = gomessage.New(gomessage.Header{}, bytes.NewReader(nil))
	}
	_ = err // unknown charsets still give a readable entity
	return e
}

// hasFlag reports whether the message has a system flag, \Recent in this
// session, or a keyword (compared without regard to case).
func (mm *matcher) hasFlag(f imap.Flag) bool {
	m := mm.t.msg
	if strings.EqualFold(string(f), string(flagRecent)) {
		return mm.sel.recent.Contains(imap.UID(m.UID))
	}
	if want := maildirFlags([]imap.Flag{f}); want != 0 {
		return m.Flags&want != 0
	}
	for _, k := range mm.kwOf(m.Extra) {
		if strings.EqualFold(k, string(f)) {
			return true
		}
	}
	return false
}

func (mm *matcher) match(c *imap.SearchCriteria) bool {
	m := mm.t.msg
	for _, s := range c.SeqNum {
		if !s.Contains(mm.t.seq) {
			return false
		}
	}
	for _, s := range c.UID {
		if !s.Contains(imap.UID(m.UID)) {
			return false
		}
	}
	for _, f := range c.Flag {
		if !mm.hasFlag(f) {
			return false
		}
	}
	for _, f := range c.NotFlag {
		if mm.hasFlag(f) {
			return false
		}
	}
	if c.Larger != 0 && m.Size <= c.Larger || c.Smaller != 0 && m.Size >= c.Smaller {
		return false
	}
	if !inDates(m.Date, c.Since, c.Before) {
		return false
	}
	if len(c.Header) > 0 || !c.SentSince.IsZero() || !c.SentBefore.IsZero() {
		h := mail.Header{Header: mm.entity().Header}
		for _, hc := range c.Header {
			if !matchFields(h.FieldsByKey(hc.Key), hc.Value) && !matchAddresses(h.FieldsByKey(hc.Key), hc.Key, hc.Value) {
				return false
			}
		}
		if !c.SentSince.IsZero() || !c.SentBefore.IsZero() {
			t, err := h.Date()
			if err != nil || !inDates(t, c.SentSince, c.SentBefore) {
				return false
			}
		}
	}
	for _, s := range c.Body {
		if !matchEntity(mm.entity(), s, false, 0) {
			return false
		}
	}
	for _, s := range c.Text {
		if !matchEntity(mm.entity(), s, true, 0) {
			return false
		}
	}
	for i := range c.Not {
		if mm.match(&c.Not[i]) {
			return false
		}
	}
	for i := range c.Or {
		if !mm.match(&c.Or[i][0]) && !mm.match(&c.Or[i][1]) {
			return false
		}
	}
	return true
}

// inDates compares dates only, ignoring time and zone, as RFC 9051 §6.4.4
// asks of SINCE, BEFORE, SENTSINCE and SENTBEFORE.
func inDates(t, since, before time.Time) bool {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if !since.IsZero() && d.Before(since) {
		return false
	}
	if !before.IsZero() && !d.Before(before) {
		return false
	}
	return true
}

func matchFields(fields gomessage.HeaderFields, pattern string) bool {
	if pattern == "" {
		return fields.Len() > 0
	}
	pattern = strings.ToLower(pattern)
	for fields.Next() {
		v, err := fields.Text()
		if err != nil {
			v = fields.Value()
		}
		if strings.Contains(strings.ToLower(v), pattern) {
			return true
		}
	}
	return false
}

// addressFields are the header fields SEARCH FROM, TO, CC and BCC (and
// HEADER on them) also match against their addresses as parsed, without
// comments, quoting or folding: "user-from@domain.org" finds
// "<user-from (comment)@ (comment) domain.org>", as Dovecot's does.
var addressFields = map[string]bool{"from": true, "to": true, "cc": true, "bcc": true, "sender": true, "reply-to": true}

func matchAddresses(fields gomessage.HeaderFields, key, pattern string) bool {
	if !addressFields[strings.ToLower(key)] || pattern == "" {
		return false
	}
	pattern = strings.ToLower(pattern)
	for fields.Next() {
		for _, a := range pimap.ParseAddressList(fields.Value()) {
			if strings.Contains(strings.ToLower(a.String()), pattern) {
				return true
			}
		}
	}
	return false
}

// matchEntity searches text parts (decoded from their transfer encoding)
// and, for TEXT, the header fields too; substring, case-insensitive.
//
// Below maxDepth levels the rest is searched as raw text, as one opaque
// part: each level of go-message's multipart reader rereads what is below
// it, so following a 16,000-deep message level by level costs time
// quadratic in the depth.
func matchEntity(e *gomessage.Entity, pattern string, header bool, depth int) bool {
	if pattern == "" {
		return true
	}
	if header && matchFields(e.Header.Fields(), pattern) {
		return true
	}
	if depth >= maxDepth {
		b, _ := io.ReadAll(io.LimitReader(e.Body, 32<<20))
		return bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(pattern)))
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if err != nil {
				return false
			}
			if matchEntity(p, pattern, header, depth+1) {
				return true
			}
		}
	}
	t, _, _ := e.Header.ContentType()
	if t != "" && !strings.HasPrefix(t, "text/") && !strings.HasPrefix(t, "message/") {
		return false
	}
	b, _ := io.ReadAll(io.LimitReader(e.Body, 32<<20))
	return bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(pattern)))
}
