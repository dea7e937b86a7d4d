package maildir

import (
	"path/filepath"
	"strings"
	"sync"
)

// settlers holds, by the directory under which they apply, the functions
// Expunge runs before it removes message files (see BeforeRemove).
var settlers = struct {
	sync.Mutex
	m map[string]func()
}{m: map[string]func(){}}

// BeforeRemove registers settle to run before Expunge removes message files
// from any Maildir under dir (a data directory's mail/). The queue writes
// Maildir copies without fsyncs and keeps its journal record of them until
// a checkpoint has flushed them; a reader's deletion must not come before
// that checkpoint, or a crash would replay the record and bring the deleted
// message back. settle makes that checkpoint when one is due. The returned
// function unregisters it.
func BeforeRemove(dir string, settle func()) (unregister func()) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = filepath.Clean(dir)
	}
	settlers.Lock()
	settlers.m[abs] = settle
	settlers.Unlock()
	return func() {
		settlers.Lock()
		delete(settlers.m, abs)
		settlers.Unlock()
	}
}

// settleBeforeRemove runs the settle function registered for a directory
// holding the folder at dir, if any.
func settleBeforeRemove(dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return
	}
	var settle func()
	settlers.Lock()
	for root, fn := range settlers.m {
		if abs == root || strings.HasPrefix(abs, root+string(filepath.Separator)) {
			settle = fn
			break
		}
	}
	settlers.Unlock()
	if settle != nil {
		settle()
	}
}
