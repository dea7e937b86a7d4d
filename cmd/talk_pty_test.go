//go:build !windows

package cmd

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
)

// ptyScreen runs the built mailx in a real terminal: a detached tmux
// session of the given width, on a private tmux server that the test kills
// at the end. tmux is the terminal emulator, so what capture returns is the
// screen a student sees, prompt redraws, cursor moves and line wrapping
// included.
type ptyScreen struct {
	t      *testing.T
	socket string
	width  int
}

func newPTYScreen(t *testing.T, width int, args ...string) *ptyScreen {
	t.Helper()
	testkit.NeedCommand(t, "tmux", "tmux") // the terminal tests need a real terminal emulator
	bin := buildBinary(t)
	home := t.TempDir()
	s := &ptyScreen{t: t, socket: filepath.Join(home, "tmux.sock"), width: width}
	cmdline := fmt.Sprintf("env -u NO_COLOR TERM=xterm-256color HOME=%s MAILX_HOME=%s %s %s; echo EXIT=$?; sleep 30",
		home, filepath.Join(home, "state"), bin, strings.Join(args, " "))
	s.tmux("-f", "/dev/null", "new-session", "-d", "-x", fmt.Sprint(width), "-y", "50", "-s", "t", cmdline)
	s.tmux("set-option", "-g", "history-limit", "50000")
	t.Cleanup(func() { exec.Command("tmux", "-S", s.socket, "kill-server").Run() })
	return s
}

func (s *ptyScreen) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// screen returns everything the terminal showed, scrollback included. With
// joined, lines the terminal wrapped because they were too wide are joined
// back (tmux remembers which ones it wrapped), so their width shows.
func (s *ptyScreen) screen(joined bool) string {
	args := []string{"capture-pane", "-p", "-S", "-", "-E", "-", "-t", "t"}
	if joined {
		args = append(args, "-J")
	}
	return s.tmux(args...)
}

// waitFor polls the screen until re matches, for up to 30 seconds.
func (s *ptyScreen) waitFor(re *regexp.Regexp) string {
	s.t.Helper()
	var sc string
	testkit.Eventually(s.t, 30*time.Second, func() bool {
		sc = s.screen(false)
		return re.MatchString(sc)
	}, "the screen never showed %v:\n%s", re, testkit.Later(func() any { return sc }))
	return sc
}

// waitPrompt waits until the screen ends with an empty prompt, so that the
// next line is typed at the prompt as a person would (keys typed before it
// are echoed by the terminal itself, at column 0).
func (s *ptyScreen) waitPrompt() {
	s.t.Helper()
	var sc string
	testkit.Eventually(s.t, 30*time.Second, func() bool {
		sc = strings.TrimRight(s.screen(false), "\n ")
		last := sc[strings.LastIndexByte(sc, '\n')+1:]
		m := promptLine.FindStringSubmatch(strings.TrimRight(last, " "))
		return m != nil && m[2] == ""
	}, "no prompt at the end of the screen:\n%s", testkit.Later(func() any { return sc }))
}

// typeLine types line and Enter, as a student would.
func (s *ptyScreen) typeLine(line string) {
	s.t.Helper()
	if line != "" {
		s.tmux("send-keys", "-t", "t", "-l", line)
	}
	s.tmux("send-keys", "-t", "t", "Enter")
}

var promptLine = regexp.MustCompile(`^((?:smtp|pop3|imap):[a-z-]+>) ?(.*)$`)

// checkPromptLines fails when a prompt line holds anything but what was
// typed at it: a reply, a note, or a stale prompt drawn before the reply.
func checkPromptLines(t *testing.T, screen string, typed []string) {
	t.Helper()
	want := map[string]bool{"": true}
	for _, l := range typed {
		want[l] = true
	}
	n, empty := 0, 0
	for _, l := range strings.Split(screen, "\n") {
		m := promptLine.FindStringSubmatch(strings.TrimRight(l, " "))
		if m == nil {
			if strings.Contains(l, "> S: ") || strings.Contains(l, "> C: ") || strings.Contains(l, ">    note: ") {
				t.Errorf("output on a prompt line: %q", l)
			}
			continue
		}
		n++
		if m[2] == "" {
			empty++
		}
		if !want[m[2]] {
			t.Errorf("prompt line %q holds %q, which was not typed there", l, m[2])
		}
	}
	if empty > 1 {
		t.Errorf("%d empty prompt lines: stale prompts were left on the screen\n%s", empty, screen)
	}
	if n < len(typed) {
		t.Errorf("%d prompt lines for %d typed lines: prompts were overwritten\n%s", n, len(typed), screen)
	}
}

// checkWrapped fails when a note line is wider than the terminal (so the
// terminal, not mailx, broke it) or a continuation falls back to column 0.
func checkWrapped(t *testing.T, joined string, width int) {
	t.Helper()
	for _, l := range strings.Split(joined, "\n") {
		l = strings.TrimRight(l, " ")
		if len([]rune(l)) > width && (strings.HasPrefix(l, "   ") || strings.Contains(l, "note: ")) {
			t.Errorf("a note line of %d columns at width %d: %q", len([]rune(l)), width, l)
		}
	}
}

// TestPTYIMAPTalkThirtyCommands types 30 IMAP commands into `mailx imap
// talk` in an 80-column terminal, waiting for each tagged reply as a student
// would, and checks the screen: every prompt line holds only what was typed
// (no reply ever lands on it), and every note fits in 80 columns.
func TestPTYIMAPTalkThirtyCommands(t *testing.T) {
	m := startTalkServe(t)
	s := newPTYScreen(t, 80, "imap", "talk", m.Addr("imap"))
	s.waitFor(regexp.MustCompile(`(?m)^imap:[a-z-]+>`))
	cmds := []string{
		"CAPABILITY", "NOOP", "LOGIN alice wrong", "LOGIN alice hungry", "FETCH",
		"LIST \"\" \"*\"", "SELECT Nowhere", "SELECT INBOX", "STATUS INBOX (MESSAGES UNSEEN)", "NOOP",
		"CREATE Lab", "LIST \"\" \"*\"", "EXAMINE Lab", "SELECT INBOX", "SEARCH ALL",
		"NOOP", "CHECK", "LIST \"\" \"%\"", "LSUB \"\" \"*\"", "DELETE Lab",
		"NAMESPACE", "BOGUS", "NOOP", "CLOSE", "NOOP",
		"LIST \"\" \"*\"", "CAPABILITY", "STATUS INBOX (MESSAGES)", "NOOP", "LOGOUT",
	}
	if len(cmds) != 30 {
		t.Fatalf("%d commands, want 30", len(cmds))
	}
	// Each command is typed as soon as the previous reply shows, as a
	// quick student does: keys may arrive while output is written, which
	// is when a prompt redrawn at the wrong time used to swallow a reply.
	for i, c := range cmds {
		s.typeLine(c)
		s.waitFor(regexp.MustCompile(fmt.Sprintf(`S: a%03d (OK|NO|BAD)`, i+1)))
	}
	sc := s.waitFor(regexp.MustCompile(`EXIT=\d+`))
	if !strings.Contains(sc, "EXIT=0") {
		t.Errorf("imap talk did not exit 0:\n%s", sc)
	}
	for _, w := range []string{"a003 NO", "a005 BAD", "a007 NO", "a022 BAD", "a030 OK"} {
		if !strings.Contains(sc, w) {
			t.Errorf("the screen lacks %q:\n%s", w, sc)
		}
	}
	checkPromptLines(t, sc, cmds)
	checkWrapped(t, s.screen(true), 80)
}

// TestPTYSMTPTalkFailuresWrapped: in `mailx smtp talk` at 80 columns, the
// 501 and 550 replies (whose notes are the longest) stay off the prompt
// line and their notes wrap on word boundaries under their label; at 160
// columns the same notes take fewer lines. --brief gives one note line per
// reply, and \full brings the explanations back.
func TestPTYSMTPTalkFailuresWrapped(t *testing.T) {
	m := startTalkServe(t)
	cmds := []string{"EHLO student.test", "MAIL FROM:<x", "MAIL FROM:<alice@mailx.test>", "RCPT TO:<nobody@elsewhere.example>", "RCPT TO:<nobody@mailx.test>", "NOOP", "QUIT"}
	lines := map[int]int{}
	for _, width := range []int{80, 160} {
		s := newPTYScreen(t, width, "smtp", "talk", m.Addr("smtp"))
		s.waitFor(regexp.MustCompile(`(?m)^smtp:[a-z-]+>`))
		for i, c := range cmds {
			s.typeLine(c)
			s.waitFor(regexp.MustCompile(fmt.Sprintf(`(?s)(C: .*){%d}S: [2-5]\d\d[ -]`, i+1)))
		}
		sc := s.waitFor(regexp.MustCompile(`EXIT=\d+`))
		for _, w := range []string{"S: 501", "S: 550"} {
			if !strings.Contains(sc, w) {
				t.Errorf("width %d: no %q on the screen:\n%s", width, w, sc)
			}
		}
		checkPromptLines(t, sc, cmds)
		joined := s.screen(true)
		checkWrapped(t, joined, width)
		// A continuation of a wrapped note starts under the text, never at
		// column 0, and no word is split across lines.
		typed := map[string]bool{}
		for _, c := range cmds {
			typed[c] = true
		}
		for _, l := range strings.Split(joined, "\n") {
			// A line typed before its prompt showed is echoed by the
			// terminal itself at column 0: that one is allowed.
			if l != "" && !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "S: ") && !strings.HasPrefix(l, "C: ") &&
				!strings.HasPrefix(l, "==") && !promptLine.MatchString(l) && !strings.HasPrefix(l, "EXIT=") && !typed[strings.TrimSpace(l)] {
				t.Errorf("width %d: a line starting at column 0 that is not C:, S: or a prompt: %q", width, l)
			}
		}
		lines[width] = strings.Count(sc, "\n")
		if width == 80 {
			t.Logf("80 columns:\n%s", sc)
		}
	}
	if lines[80] <= lines[160] {
		t.Errorf("notes took %d lines at 80 columns and %d at 160: not wrapped to the width", lines[80], lines[160])
	}

	s := newPTYScreen(t, 80, "smtp", "talk", "--brief", m.Addr("smtp"))
	s.waitFor(regexp.MustCompile(`(?m)^smtp:[a-z-]+>`))
	brief := []string{"EHLO student.test", "RCPT TO:<bob@mailx.test>", `\full`, "RCPT TO:<bob@mailx.test>", "QUIT"}
	for _, c := range brief {
		s.waitPrompt()
		s.typeLine(c)
		if strings.HasPrefix(c, `\`) {
			s.waitFor(regexp.MustCompile(`full notes`))
			continue
		}
		time.Sleep(50 * time.Millisecond)
	}
	sc := s.waitFor(regexp.MustCompile(`EXIT=\d+`))
	before, after, _ := strings.Cut(sc, "full notes")
	i := strings.Index(before, "S: 503")
	if i < 0 {
		t.Fatalf("no 503 before \\full:\n%s", sc)
	}
	rest := strings.SplitN(before[i:], "\n", 4)
	if len(rest) < 3 || !strings.HasPrefix(rest[1], "   note: ") || strings.HasPrefix(rest[2], "   ") {
		t.Errorf("--brief: want exactly one note line under the 503, got:\n%s", sc)
	}
	if !strings.Contains(after, "   next: ") {
		t.Errorf(`after \full the next steps are not back:\n%s`, after)
	}
	checkPromptLines(t, sc, brief)
	os.WriteFile(filepath.Join(t.TempDir(), "screen.txt"), []byte(sc), 0o644)
}

// TestPTYIMAPIdlePush: while IDLE waits at the prompt, a message arrives;
// the server's push appears above the prompt, and the prompt (with what the
// student has typed so far) is drawn again below it.
func TestPTYIMAPIdlePush(t *testing.T) {
	m := startTalkServe(t)
	s := newPTYScreen(t, 80, "imap", "talk", m.Addr("imap"))
	s.waitFor(regexp.MustCompile(`(?m)^imap:[a-z-]+>`))
	for i, c := range []string{"LOGIN alice hungry", "SELECT INBOX"} {
		s.typeLine(c)
		s.waitFor(regexp.MustCompile(fmt.Sprintf(`S: a%03d OK`, i+1)))
	}
	s.typeLine("IDLE")
	s.waitFor(regexp.MustCompile(`(?m)^S: \+ `))
	s.waitPrompt()
	s.tmux("send-keys", "-t", "t", "-l", "DO")
	msg := "From: bob@mailx.test\r\nTo: alice@mailx.test\r\nSubject: ping\r\n\r\nhi\r\n"
	sendPlain(t, m.Addr("smtp"), "bob@mailx.test", "alice@mailx.test", msg)
	sc := s.waitFor(regexp.MustCompile(`S: \* \d+ EXISTS`))
	testkit.Eventually(t, 30*time.Second, func() bool {
		trim := strings.TrimRight(sc, "\n ")
		last := trim[strings.LastIndexByte(trim, '\n')+1:]
		if m := promptLine.FindStringSubmatch(strings.TrimRight(last, " ")); m != nil && m[2] == "DO" {
			return true
		}
		sc = s.screen(false)
		return false
	}, "after the push, the screen does not end with the prompt and the half-typed line:\n%s", testkit.Later(func() any { return sc }))
	s.typeLine("NE")
	s.waitFor(regexp.MustCompile(`S: a003 OK`))
	s.typeLine("LOGOUT")
	sc = s.waitFor(regexp.MustCompile(`EXIT=\d+`))
	for _, l := range strings.Split(sc, "\n") {
		if m := promptLine.FindStringSubmatch(strings.TrimRight(l, " ")); m != nil && strings.Contains(m[2], "S: ") {
			t.Errorf("a pushed line on a prompt line: %q", l)
		}
	}
	if !strings.Contains(sc, "EXIT=0") || !strings.Contains(sc, "C: DONE") {
		t.Errorf("IDLE session:\n%s", sc)
	}
}
