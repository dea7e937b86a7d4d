package server

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
)

// traceMux fans every event out to the user's hook (--trace) and to one
// transcript file per session in DATA/transcripts. Lines are buffered per
// session and appended when the buffer fills or the session closes, so ten
// thousand idle sessions do not hold ten thousand open files.
//
// The directory stays within a budget (transcriptBudget): a session that
// closes before its client sent anything (a port scan, a connect-and-close
// flood) is only counted in the log, and the oldest files are removed once
// the directory outgrows its size or a file its age.
type traceMux struct {
	user  transcript.Hook
	dir   string
	files bool
	log   *slog.Logger
	keep  *transcriptBudget
	// hops, in a lab MTA, is record wrapped by relay.Hops.Wrap: it adds the
	// "relay hop h3: ..." line to the receiving session, so that both ends
	// of a hop are findable in DATA/transcripts and not only in --trace.
	hops transcript.Hook

	mu       sync.Mutex
	sessions map[string]*sessionLog
	done     map[string]*sessionLog // closed sessions, for late queue events
	order    []string               // closed sessions, oldest first
}

type sessionLog struct {
	path string
	// talked is set once the client sent a line: only then is the session
	// worth a file.
	talked bool
	size   int64 // octets flushed to the file
	cut    bool  // over the per-session cap: further lines are dropped
	buf    bytes.Buffer
	wmu    sync.Mutex // held while appending to the file, so flushes stay in order
}

// flushAt is the buffered size at which a session's lines are appended.
const flushAt = 16 << 10

// keepDone bounds how many closed sessions' files are remembered for late
// events (a delivery reported after the client left).
const keepDone = 4096

func newTraceMux(user transcript.Hook, dir string, files bool, maxBytes int64, maxAge time.Duration, log *slog.Logger) *traceMux {
	t := &traceMux{user: user, dir: dir, files: files, log: log, sessions: map[string]*sessionLog{}, done: map[string]*sessionLog{}}
	if files {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			log.Warn("transcripts off: cannot create directory", "dir", dir, "err", err)
			t.files = false
		} else {
			t.keep = newTranscriptBudget(dir, maxBytes, maxAge, log)
		}
	}
	return t
}

// hook is the transcript.Hook every component reports to.
func (t *traceMux) hook(ev transcript.Event) {
	if t.hops != nil {
		t.hops(ev)
		return
	}
	t.record(ev)
}

// record writes ev to its session's transcript and passes it to the user.
func (t *traceMux) record(ev transcript.Event) {
	if t.user != nil {
		defer t.user(ev) // after the file: whoever sees "closed" finds it complete
	}
	if !t.files || ev.Session == "" {
		return
	}
	t.mu.Lock()
	s := t.sessions[ev.Session]
	if s == nil {
		if d, ok := t.done[ev.Session]; ok {
			d.wmu.Lock() // after the closing flush
			t.mu.Unlock()
			t.appendFile(d.path, []byte(transcript.FormatLine(ev.Dir, ev.Line)+"\n"))
			d.wmu.Unlock()
			return
		}
		s = &sessionLog{path: filepath.Join(t.dir, fmt.Sprintf("%s-%s.txt", ev.Time.UTC().Format("20060102-150405"), ev.Session))}
		proto := ev.Proto
		if proto == "" {
			proto = "smtp"
		}
		h := transcript.Header{Protocol: proto, Started: ev.Time, Session: ev.Session}
		t.sessions[ev.Session] = s
		if rest, ok := strings.CutPrefix(ev.Line, "connect "); ok && ev.Dir == transcript.Meta {
			// The opening event becomes a header line ("# connect: from ...")
			// rather than a "# ..." line the reader would take for a header.
			h.Extra = append(h.Extra, [2]string{"connect", rest})
			_, _ = transcript.NewWriter(&s.buf, h)
			t.mu.Unlock()
			return
		}
		_, _ = transcript.NewWriter(&s.buf, h)
	}
	closed := ev.Dir == transcript.Meta && strings.HasPrefix(ev.Line, "closed")
	switch max := t.keep.perSession(); {
	case s.cut && !closed:
		// Past the cap: the rest of this session is not kept.
	case max > 0 && s.size+int64(s.buf.Len()) > max && !closed:
		s.cut = true
		s.buf.WriteString(transcript.FormatLine(transcript.Meta, fmt.Sprintf("transcript cut at %d octets: the rest of this session is not kept (a tenth of the transcripts budget)", max)) + "\n")
	default:
		s.buf.Write(append(transcript.AppendLine(s.buf.AvailableBuffer(), ev.Dir, ev.Line), '\n'))
	}
	if ev.Dir == transcript.Client {
		s.talked = true
	}
	if closed && !s.talked {
		// Nothing from the client: no file, a count in the log.
		delete(t.sessions, ev.Session)
		t.mu.Unlock()
		t.keep.silent()
		return
	}
	var flush []byte
	if s.buf.Len() >= flushAt || closed {
		flush = bytes.Clone(s.buf.Bytes())
		s.size += int64(len(flush))
		s.buf.Reset()
	}
	if closed {
		delete(t.sessions, ev.Session)
		t.done[ev.Session] = s
		t.order = append(t.order, ev.Session)
		if len(t.order) > keepDone {
			delete(t.done, t.order[0])
			t.order = t.order[1:]
		}
	}
	if flush == nil {
		t.mu.Unlock()
		return
	}
	// The file is written outside t.mu, which every session's every line
	// takes: opening and appending cost far more than formatting. wmu,
	// taken before t.mu is let go, keeps one session's flushes in order.
	s.wmu.Lock()
	t.mu.Unlock()
	t.appendFile(s.path, flush)
	s.wmu.Unlock()
}

func (t *traceMux) appendFile(path string, b []byte) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err == nil {
		_, err = f.Write(b)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.log.Warn("cannot write transcript", "file", path, "err", err)
		return
	}
	t.keep.wrote(path, int64(len(b)))
}

// close writes what is buffered for sessions still open.
func (t *traceMux) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, s := range t.sessions {
		if !s.talked {
			t.keep.silent()
		} else if s.buf.Len() > 0 {
			t.appendFile(s.path, s.buf.Bytes())
		}
		delete(t.sessions, id)
	}
	t.keep.close()
}
