package server

import (
	clist "container/list"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Default transcript budget: enough for weeks of a classroom's sessions,
// small next to the disk of any laptop. A lab that wants every session for
// ever says so (--transcripts-max-size unlimited --transcripts-max-age
// unlimited).
const (
	DefaultTranscriptsMaxSize = 100 << 20
	DefaultTranscriptsMaxAge  = 14 * 24 * time.Hour
)

// transcriptBudget keeps DATA/transcripts within a size and an age. It
// knows every file it wrote or found at start, oldest first, and removes
// from the front as files are written: the oldest file goes first once the
// total is over the size (down to 90% of it, so that a full directory does
// not remove a file on every write), and any file older than the age
// (checked at most once a minute). A nil budget does nothing.
type transcriptBudget struct {
	dir      string
	maxBytes int64         // <0: no size limit
	maxAge   time.Duration // <0: no age limit
	log      *slog.Logger
	now      func() time.Time

	mu        sync.Mutex
	files     *clist.List // of *keptFile, oldest first
	byPath    map[string]*clist.Element
	total     int64
	lastAge   time.Time
	removed   int
	quiet     int       // sessions closed before the client said anything, not yet logged
	lastQuiet time.Time // when quiet was last logged
}

type keptFile struct {
	path  string
	size  int64
	first time.Time // first written
}

func newTranscriptBudget(dir string, maxBytes int64, maxAge time.Duration, log *slog.Logger) *transcriptBudget {
	if maxBytes == 0 {
		maxBytes = DefaultTranscriptsMaxSize
	}
	if maxAge == 0 {
		maxAge = DefaultTranscriptsMaxAge
	}
	b := &transcriptBudget{dir: dir, maxBytes: maxBytes, maxAge: maxAge, log: log, now: time.Now,
		files: clist.New(), byPath: map[string]*clist.Element{}}
	b.scan()
	b.mu.Lock()
	b.enforce(true)
	b.mu.Unlock()
	return b
}

// scan learns the files already in the directory, oldest first.
func (b *transcriptBudget) scan() {
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return
	}
	var found []*keptFile
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".txt") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		found = append(found, &keptFile{path: filepath.Join(b.dir, e.Name()), size: info.Size(), first: info.ModTime()})
	}
	slices.SortFunc(found, func(x, y *keptFile) int {
		if c := x.first.Compare(y.first); c != 0 {
			return c
		}
		return strings.Compare(x.path, y.path)
	})
	for _, f := range found {
		b.byPath[f.path] = b.files.PushBack(f)
		b.total += f.size
	}
}

// wrote accounts for n octets appended to path, then removes the oldest
// files if the budget is exceeded.
func (b *transcriptBudget) wrote(path string, n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.byPath[path]; ok {
		e.Value.(*keptFile).size += n
	} else {
		b.byPath[path] = b.files.PushBack(&keptFile{path: path, size: n, first: b.now()})
	}
	b.total += n
	b.enforce(false)
}

// enforce removes files over the age, then the oldest until the total fits.
func (b *transcriptBudget) enforce(force bool) {
	now := b.now()
	removed := 0
	if b.maxAge > 0 && (force || now.Sub(b.lastAge) >= time.Minute) {
		b.lastAge = now
		for e := b.files.Front(); e != nil; e = b.files.Front() {
			if now.Sub(e.Value.(*keptFile).first) <= b.maxAge {
				break
			}
			b.remove(e)
			removed++
		}
	}
	if b.maxBytes > 0 && b.total > b.maxBytes {
		target := b.maxBytes - b.maxBytes/10
		// The newest file stays even alone over the budget: it is the
		// session being written.
		for e := b.files.Front(); e != nil && e != b.files.Back() && b.total > target; e = b.files.Front() {
			b.remove(e)
			removed++
		}
	}
	if removed > 0 {
		b.removed += removed
		b.log.Info("old transcripts removed to keep the directory within its budget",
			"removed", removed, "kept", b.files.Len(), "bytes", b.total, "max_bytes", b.maxBytes, "max_age", b.maxAge.String())
	}
}

func (b *transcriptBudget) remove(e *clist.Element) {
	f := e.Value.(*keptFile)
	b.files.Remove(e)
	delete(b.byPath, f.path)
	b.total -= f.size
	if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		b.log.Warn("cannot remove an old transcript", "file", f.path, "err", err)
	}
}

// silent counts a session that closed before its client sent a line; the
// count goes to the log at most once a minute instead of one file each.
func (b *transcriptBudget) silent() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.quiet++
	now := b.now()
	if b.lastQuiet.IsZero() {
		b.lastQuiet = now
	}
	if now.Sub(b.lastQuiet) >= time.Minute {
		b.logQuiet(now)
	}
}

func (b *transcriptBudget) logQuiet(now time.Time) {
	if b.quiet > 0 {
		b.log.Info("sessions closed before the client sent anything (no transcript kept)", "sessions", b.quiet, "since", b.lastQuiet.UTC().Format(time.RFC3339))
	}
	b.quiet, b.lastQuiet = 0, now
}

// close logs what is still counted.
func (b *transcriptBudget) close() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.logQuiet(b.now())
}

// perSession is the most one session's transcript may hold: a tenth of
// the size budget, so that one endless session cannot take it all; 0 when
// the budget is unlimited (or there is none).
func (b *transcriptBudget) perSession() int64 {
	if b == nil || b.maxBytes <= 0 {
		return 0
	}
	return max(b.maxBytes/10, 16<<10)
}
