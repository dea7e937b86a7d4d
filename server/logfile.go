package server

import (
	"fmt"
	"os"
	"sync"
)

// DefaultLogMaxSize is where DATA/log/mailx.log is rotated when the
// configuration names no size: every connection, even one that never
// logs in, adds lines, so the log must be bounded like the transcripts.
const DefaultLogMaxSize = 16 << 20

// rotatingLog is DATA/log/mailx.log: when a write would take it past max
// bytes, the file becomes mailx.log.1 (replacing the previous one) and a
// new mailx.log starts, so the log holds at most about 2×max bytes, as
// logrotate's "rotate 1" with a size limit would.
type rotatingLog struct {
	mu   sync.Mutex
	path string
	max  int64
	f    *os.File
	size int64
}

// openRotatingLog opens path for appending; max 0 takes DefaultLogMaxSize
// and a negative max never rotates.
func openRotatingLog(path string, max int64) (*rotatingLog, error) {
	if max == 0 {
		max = DefaultLogMaxSize
	}
	l := &rotatingLog{path: path, max: max}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *rotatingLog) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	l.f, l.size = f, st.Size()
	return nil
}

// Write appends p (one slog record), rotating first when it would not fit.
func (l *rotatingLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	if l.max > 0 && l.size > 0 && l.size+int64(len(p)) > l.max {
		if err := l.rotate(); err != nil {
			return 0, fmt.Errorf("rotating %s: %w", l.path, err)
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

// rotate closes the file before renaming it: Windows cannot rename an open
// file.
func (l *rotatingLog) rotate() error {
	l.f.Close()
	l.f = nil
	if err := os.Rename(l.path, l.path+".1"); err != nil && !os.IsNotExist(err) {
		// Keep logging into the old file rather than losing lines.
		if oerr := l.open(); oerr != nil {
			return oerr
		}
		return err
	}
	return l.open()
}

// Close closes the current file.
func (l *rotatingLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
