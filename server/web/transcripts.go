package web

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mailx-edu/mailx/proto/transcript"
)

// TranscriptFiles returns a hook that writes each web session's lines to
// its own file in dir, in the proto/transcript format (# mailx transcript
// v1, C:/S: lines, "# http GET /f/INBOX -> 200 (3.1 ms)" events), as
// mailx serve does in DATA/transcripts. Each line is appended at once, so
// a lesson check can read a session while it runs. mailx web uses it; in
// mailx serve the MTA's own trace writes the files.
func TranscriptFiles(dir string) (transcript.Hook, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("transcripts: %w", err)
	}
	var mu sync.Mutex
	paths := map[string]string{}
	return func(ev transcript.Event) {
		if ev.Session == "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		p, ok := paths[ev.Session]
		var b strings.Builder
		if !ok {
			p = filepath.Join(dir, fmt.Sprintf("%s-%s.txt", ev.Time.UTC().Format("20060102-150405"), ev.Session))
			paths[ev.Session] = p
			h := transcript.Header{Protocol: "web", Started: ev.Time, Session: ev.Session}
			if rest, ok := strings.CutPrefix(ev.Line, "connect "); ok && ev.Dir == transcript.Meta {
				h.Extra = append(h.Extra, [2]string{"connect", rest})
				transcript.NewWriter(&b, h)
				appendFile(p, b.String())
				return
			}
			transcript.NewWriter(&b, h)
		}
		b.WriteString(transcript.FormatLine(ev.Dir, ev.Line) + "\n")
		appendFile(p, b.String())
		if ev.Dir == transcript.Meta && strings.HasPrefix(ev.Line, "closed") {
			delete(paths, ev.Session)
		}
	}, nil
}

func appendFile(path, s string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	f.WriteString(s)
	f.Close()
}
