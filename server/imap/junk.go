package imap

import (
	"io"
	"path/filepath"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"

	"github.com/mailx-edu/mailx/server/maildir"
)

// JunkTrainer learns from what users do with their mail, the feedback a
// learning spam filter needs (server/spam): a message moved or copied into
// Junk, or given the $Junk keyword, is spam; one moved out of Junk into
// another folder than Trash, or given $NotJunk, is ham (the keywords are
// those of RFC 5788's registry, as Thunderbird and Apple Mail set them).
// Learn gets the message text and returns a sentence for the trace.
type JunkTrainer interface {
	Learn(user string, msg []byte, spam bool) (note string, err error)
}

// junkTrainers holds each server's trainer; the MTA sets it after the
// server is built (the spam checks are configured after the listeners).
var junkTrainers sync.Map // *Server → JunkTrainer

// SetJunkTrainer makes s tell t about junk moves and keywords.
func (s *Server) SetJunkTrainer(t JunkTrainer) { junkTrainers.Store(s, t) }

// maxLearn bounds the octets of a message read for training; the filter
// reads no more of any message anyway.
const maxLearn = 1 << 20

func isJunk(name string) bool { return strings.EqualFold(name, "Junk") }

// learnFromCopy trains on messages copied or moved from the selected folder
// into dst: into Junk is spam, out of Junk (not into Trash) is ham.
func (ss *session) learnFromCopy(uids []uint32, dst *maildir.Folder) {
	t, ok := junkTrainers.Load(ss.s)
	if !ok || ss.sel == nil {
		return
	}
	dstName := strings.TrimPrefix(filepath.Base(dst.Dir()), ".")
	var spam bool
	switch {
	case isJunk(dstName) && !isJunk(ss.sel.name):
		spam = true
	case isJunk(ss.sel.name) && !isJunk(dstName) && !strings.EqualFold(dstName, "Trash"):
		spam = false
	default:
		return
	}
	ss.learn(t.(JunkTrainer), uids, spam)
}

// learnFromFlags trains on messages given $Junk or $NotJunk.
func (ss *session) learnFromFlags(uids []uint32, flags *imap.StoreFlags) {
	t, ok := junkTrainers.Load(ss.s)
	if !ok || ss.sel == nil || flags.Op == imap.StoreFlagsDel {
		return
	}
	for _, f := range flags.Flags {
		switch {
		case strings.EqualFold(string(f), "$Junk"):
			ss.learn(t.(JunkTrainer), uids, true)
			return
		case strings.EqualFold(string(f), "$NotJunk"):
			ss.learn(t.(JunkTrainer), uids, false)
			return
		}
	}
}

func (ss *session) learn(t JunkTrainer, uids []uint32, spam bool) {
	for _, uid := range uids {
		rc, _, err := ss.sel.f.Open(uid)
		if err != nil {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxLearn))
		rc.Close()
		if err != nil {
			continue
		}
		note, err := t.Learn(ss.user, b, spam)
		if err != nil {
			ss.s.log.Warn("spam filter: training failed", "user", ss.user, "err", err)
			ss.c.trace.Meta("spam filter: could not learn from UID %d: %v", uid, err)
			continue
		}
		ss.c.trace.Meta("spam filter: UID %d %s", uid, note)
	}
}
