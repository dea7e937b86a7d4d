package lessons

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Progress is what mailx remembers of one student's work on one lesson, kept
// in <state dir>/lessons/<name>/progress.json.
type Progress struct {
	Lesson    string          `json:"lesson"`
	Started   time.Time       `json:"started"`
	Updated   time.Time       `json:"updated"`
	Completed bool            `json:"completed"`
	Steps     map[string]bool `json:"steps"` // step key → passed
	Attempts  int             `json:"attempts"`
	// Step is the index of the step the student was at when the lesson last
	// stopped: where `lessons start` continues.
	Step int `json:"step"`
	// Addrs are the lab's addresses ({smtp:hill.test} → 127.0.0.1:PORT) in
	// the last run: a resumed lab asks for the same ports, so that commands
	// recalled from the shell's history still work, and grading fills the
	// placeholders of flag checks with them.
	Addrs map[string]string `json:"addrs,omitempty"`
}

// Done counts the steps of l that passed.
func (p *Progress) Done(l *Lesson) int {
	n := 0
	for i, s := range l.Steps {
		if p.Steps[StepKey(i, s)] {
			n++
		}
	}
	return n
}

// Resumable reports whether the student stopped in the middle of l.
func (p *Progress) Resumable(l *Lesson) bool {
	return !p.Completed && p.Step > 0 && p.Step < len(l.Steps)
}

// StepKey names a step in progress files: its id, or its number when it has none.
func StepKey(i int, s Step) string {
	if s.ID != "" {
		return s.ID
	}
	return fmt.Sprintf("step-%d", i+1)
}

// Workspace is the directory of one lesson's lab and records:
//
//	<state>/lessons/<name>/progress.json   the student's progress
//	<state>/lessons/<name>/lab/<domain>/   each lab domain's serve data directory
//	<state>/lessons/<name>/work/           the student's working directory (example files)
//	<state>/lessons/<name>/exchanges.jsonl every checked exchange, for `lessons check`
type Workspace struct{ Dir string }

// NewWorkspace returns the workspace of lesson name under the state directory.
func NewWorkspace(stateDir, name string) Workspace {
	return Workspace{Dir: filepath.Join(stateDir, "lessons", name)}
}

// LabDir is the data directory of one lab domain.
func (w Workspace) LabDir(domain string) string { return filepath.Join(w.Dir, "lab", domain) }

// WorkDir is where the student's commands run and example files are copied.
func (w Workspace) WorkDir() string { return filepath.Join(w.Dir, "work") }

func (w Workspace) progressFile() string  { return filepath.Join(w.Dir, "progress.json") }
func (w Workspace) exchangesFile() string { return filepath.Join(w.Dir, "exchanges.jsonl") }

// LoadProgress reads the progress file; a missing file is an empty progress.
func (w Workspace) LoadProgress(lesson string) (*Progress, error) {
	p := &Progress{Lesson: lesson, Steps: map[string]bool{}}
	data, err := os.ReadFile(w.progressFile())
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lessons: read progress: %w", err)
	}
	if err := json.Unmarshal(data, p); err != nil {
		return nil, fmt.Errorf("lessons: progress file %s is damaged (%v); run with --reset to start over", w.progressFile(), err)
	}
	if p.Steps == nil {
		p.Steps = map[string]bool{}
	}
	return p, nil
}

// SaveProgress writes the progress file atomically (write, then rename), so a
// crash never leaves half a file.
func (w Workspace) SaveProgress(p *Progress) error {
	if err := os.MkdirAll(w.Dir, 0o700); err != nil {
		return fmt.Errorf("lessons: %w", err)
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	tmp := w.progressFile() + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("lessons: save progress: %w", err)
	}
	return os.Rename(tmp, w.progressFile())
}

// Reset removes everything of the lesson: progress, lab data and records.
func (w Workspace) Reset() error {
	if err := os.RemoveAll(w.Dir); err != nil {
		return fmt.Errorf("lessons: reset %s: %w", w.Dir, err)
	}
	return nil
}
