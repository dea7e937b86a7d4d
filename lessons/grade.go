package lessons

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// regrade judges step s again on its records, in order, with match (false
// for a record of another kind): the first record that matches passes the
// step, else the last verdict stands. A pass whose lab check failed at the
// time does not count, since the lab has moved on since.
func regrade(s Step, sr *StepResult, mine []record, match func(record) (Verdict, bool)) {
	for _, rc := range mine {
		v, ok := match(rc)
		if !ok {
			continue
		}
		if v.OK && s.Expect.HasLabCheck() && !rc.Passed {
			v = fail("lab", "the lab did not show the expected result then")
		}
		sr.OK, sr.Why = v.OK, v.Why
		if v.OK {
			return
		}
	}
}

// Grade re-runs a lesson's checks for auto-grading, without the student:
// talk and run steps are checked again on the exchanges and commands recorded
// while the student worked (the same matching the runner used, so a record
// edited by hand is judged on what it says); check steps, and the lab parts
// of other steps, are checked again on the lab's state as it is on disk now
// — except where a later step was meant to change that state (a mailbox
// emptied by POP3 after an earlier check saw two messages), in which case the
// verdict recorded at the time stands.
func Grade(ctx context.Context, l *Lesson, w Workspace, lab LabView) (*Result, error) {
	recs, err := readRecords(w)
	if err != nil {
		return nil, err
	}
	res := &Result{Lesson: l.Name, Total: len(l.Steps)}
	vars := map[string]string{}
	if p, err := w.LoadProgress(l.Name); err == nil && p.Addrs != nil {
		vars = p.Addrs
	}
	lastLab := lastLabCheck(l)
	for i, s := range l.Steps {
		key := StepKey(i, s)
		sr := StepResult{Key: key, Title: s.Title}
		mine := recs[key]
		sr.Tries = len(mine)
		switch s.Action {
		case ActRead:
			sr.OK = anyPassed(mine)
		case ActTalk, ActRun:
			regrade(s, &sr, mine, func(rc record) (Verdict, bool) {
				switch {
				case rc.Exchange != nil && s.Action == ActTalk:
					return s.Expect.MatchExchange(*rc.Exchange), true
				case rc.Run != nil && s.Action == ActRun:
					return s.Expect.MatchRun(*rc.Run, vars), true
				}
				return Verdict{}, false
			})
			if len(mine) == 0 {
				sr.Why = "not attempted"
			}
		case ActWeb:
			// The bridge's transcripts stay on disk: look again when the
			// record does not show a pass.
			sr.OK = anyPassed(mine)
			if !sr.OK {
				e := s.Expect
				e.Within = 1
				v := e.CheckLab(ctx, lab)
				sr.OK, sr.Why = v.OK, v.Why
			}
		case ActAsk:
			regrade(s, &sr, mine, func(rc record) (Verdict, bool) {
				if rc.Run == nil {
					return Verdict{}, false
				}
				return s.Expect.matchAnswer(rc.Run.Answer), true
			})
			if len(mine) == 0 {
				sr.Why = "not answered"
			}
		case ActCheck:
			if i == lastLab {
				ctx2, cancel := context.WithCancel(ctx)
				e := s.Expect
				e.Within = 1 // look once: the lab is not running
				v := e.CheckLab(ctx2, lab)
				cancel()
				sr.OK, sr.Why = v.OK, v.Why
			} else {
				sr.OK = anyPassed(mine)
				if !sr.OK {
					sr.Why = "the check did not pass while the lesson ran"
				}
			}
		}
		if sr.OK {
			res.Passed++
		}
		res.Steps = append(res.Steps, sr)
	}
	res.Completed = res.Passed == res.Total
	return res, nil
}

func anyPassed(rs []record) bool {
	for _, r := range rs {
		if r.Passed {
			return true
		}
	}
	return false
}

// lastLabCheck is the index of the last check step: the state it looks at is
// the lab's final state, which Grade can verify on disk.
func lastLabCheck(l *Lesson) int {
	last := -1
	for i, s := range l.Steps {
		if s.Action == ActCheck {
			last = i
		}
	}
	return last
}

func readRecords(w Workspace) (map[string][]record, error) {
	f, err := os.Open(w.exchangesFile())
	if errors.Is(err, os.ErrNotExist) {
		return map[string][]record{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lessons: %w", err)
	}
	defer f.Close()
	out := map[string][]record{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 8<<20)
	n := 0
	for sc.Scan() {
		n++
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("lessons: %s line %d is damaged: %v", w.exchangesFile(), n, err)
		}
		out[r.Step] = append(out[r.Step], r)
	}
	return out, sc.Err()
}
