package lessons

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuiltinLessonsAreValid(t *testing.T) {
	all, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	// Lessons are added by several people at once: each takes the next
	// free number, its file is named by it, and no two share one.
	if len(all) < 12 {
		t.Fatalf("got %d built-in lessons, want at least 12", len(all))
	}
	for i, l := range all {
		if i > 0 && l.Order <= all[i-1].Order {
			t.Errorf("lesson %s has order %d, after %s with %d", l.Name, l.Order, all[i-1].Name, all[i-1].Order)
		}
		if l.Order < 1 || !strings.HasPrefix(filepath.Base(l.Source), fmt.Sprintf("%02d-", l.Order)) {
			t.Errorf("lesson %s has order %d, but its file is %s", l.Name, l.Order, l.Source)
		}
		if len(l.Steps) == 0 || len(l.Goals) == 0 || l.Summary == "" {
			t.Errorf("lesson %s lacks steps, goals or summary", l.Name)
		}
		for _, s := range l.Steps {
			if s.Explain == "" {
				t.Errorf("%s:%d: step %q has no explanation", l.Source, s.Line, s.Title)
			}
			if (s.Action == ActTalk || s.Action == ActRun || s.Action == ActWeb || s.Action == ActAsk) && s.Hint == "" {
				t.Errorf("%s:%d: step %q has no hint", l.Source, s.Line, s.Title)
			}
		}
	}
}

// TestValidateReportsLines checks that each kind of mistake a teacher can make
// is reported with the line it is on and words that say what to change.
func TestValidateReportsLines(t *testing.T) {
	const good = `name: demo
title: Demo
lab:
  domains:
    - name: hill.test
      users: ["jill:water"]
steps:
  - title: Greet
    talk: smtp hill.test
    expect:
      reply: "250"
    hint: HELO x
    explain: ok
answers:
  right:
    - name: helo
      script: HELO x
  wrong:
    - name: noop
      step: step-1
      hint: HELO x
      script: NOOP
`
	if _, err := Parse("good.yaml", []byte(good)); err != nil {
		t.Fatalf("good lesson rejected: %v", err)
	}
	for _, tc := range []struct {
		name string
		file string
		want []string // "line: fragment" pairs
	}{
		{"yaml syntax", "name: demo\ntitle: Demo\n  steps: 3\n", []string{"3: not valid YAML"}},
		{"unknown key", strings.Replace(good, "    hint: HELO x", "    hnit: HELO x", 1), []string{"12: unknown key \"hnit\" in step 1"}},
		{"missing title", strings.Replace(good, "title: Demo\n", "", 1), []string{"1: the lesson is missing \"title\""}},
		{"bad regex", strings.Replace(good, `      reply: "250"`, `      command: '^(HELO'`, 1), []string{"11: expect.command is not a valid regular expression"}},
		{"unknown protocol", strings.Replace(good, "talk: smtp hill.test", "talk: smtpp hill.test", 1), []string{"9: unknown protocol \"smtpp\""}},
		{"unknown domain", strings.Replace(good, "talk: smtp hill.test", "talk: smtp town.test", 1), []string{"9: talk names domain \"town.test\""}},
		{"two actions", strings.Replace(good, "    talk: smtp hill.test\n", "    talk: smtp hill.test\n    run: mx lookup\n", 1), []string{"10: step 1 has both \"talk\" and \"run\""}},
		{"bad reply", strings.Replace(good, `reply: "250"`, `reply: "25"`, 1), []string{"11: expect.reply \"25\" is not a reply code"}},
		{"user without password", strings.Replace(good, `"jill:water"`, `"jill"`, 1), []string{"6: user \"jill\" must be written NAME:PASSWORD"}},
		{"steps not a list", "name: demo\ntitle: Demo\nsteps: none\n", []string{"3: steps must be a list"}},
		{"no expect", strings.Replace(good, "    expect:\n      reply: \"250\"\n", "", 1), []string{"8: step 1 has no \"expect\""}},
		{"bad record", strings.Replace(good, "lab:\n", "lab:\n  records: [\"school.test MX ten\"]\n", 1), []string{"4: record \"school.test MX ten\" is not a DNS record"}},
		{"no answers", good[:strings.Index(good, "answers:")], []string{"1: the lesson has no answer scripts"}},
		{"no wrong answers", good[:strings.Index(good, "  wrong:")], []string{"15: answers.wrong is missing or empty"}},
		{"answer for no step", strings.Replace(good, "step: step-1", "step: step-9", 1), []string{"20: step \"step-9\" is not a step id"}},
		{"unknown state", strings.Replace(good, `reply: "250"`, `state: mail-open`, 1), []string{"11: expect.state \"mail-open\" is not a smtp session state"}},
		{"unknown verb", strings.Replace(good, `reply: "250"`, `verb: [HELO, HULLO]`, 1), []string{"11: expect.verb: \"HULLO\" is not a smtp command"}},
		{"bad mx fact", strings.Replace(strings.Replace(good, "talk: smtp hill.test", "run: mx lookup", 1), `reply: "250"`, `mx: "ten mx.hill.test"`, 1), []string{"11: expect.mx"}},
		{"several at once", strings.Replace(strings.Replace(good, "talk: smtp hill.test", "talk: smtpp hill.test", 1), "    hint: HELO x", "    hnit: HELO x", 1),
			[]string{"9: unknown protocol", "12: unknown key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("lab.yaml", []byte(tc.file))
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Parse error = %v, want Problems", err)
			}
			if len(ps) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(ps), len(tc.want), err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), "lab.yaml:"+w) {
					t.Errorf("problems do not contain %q:\n%v", "lab.yaml:"+w, err)
				}
			}
		})
	}
}

func TestReplyMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, status string
		want            bool
	}{
		{"250", "250", true}, {"250", "251", false}, {"5xx", "554", true}, {"5xx", "451", false},
		{"+OK", "+OK", true}, {"+ok", "+OK", true}, {"OK", "NO", false},
	} {
		if got := (ReplyMatch{tc.pattern}).Match(tc.status); got != tc.want {
			t.Errorf("ReplyMatch{%q}.Match(%q) = %v, want %v", tc.pattern, tc.status, got, tc.want)
		}
	}
}

// TestValidateWebAndAsk: the web, ask and bridge keys report their mistakes
// with lines, and a valid web lesson turns the lab's web mail on.
func TestValidateWebAndAsk(t *testing.T) {
	const good = `name: demo
title: Demo
lab:
  domains:
    - name: hill.test
      users: ["jill:water"]
steps:
  - title: Open the inbox
    web: hill.test
    expect:
      bridge: {domain: hill.test, user: jill, request: [GET /f/INBOX, GET /api/v1/messages], sent: SELECT}
    hint: log in
    explain: ok
  - title: Which command?
    ask: true
    expect:
      answer: [SELECT, EXAMINE]
    hint: SELECT
    hints:
      - when: {answer: FETCH}
        hint: later
    explain: ok
answers:
  right:
    - name: api
      script: |
        curl -u jill:water {web:hill.test}/api/v1/messages
        select
  wrong:
    - name: fetch
      step: step-2
      hint: later
      script: FETCH
`
	l, err := Parse("good.yaml", []byte(good))
	if err != nil {
		t.Fatalf("good lesson rejected: %v", err)
	}
	if !l.Lab.Web || l.Steps[0].Action != ActWeb || l.Steps[0].Web != "hill.test" || l.Steps[1].Action != ActAsk ||
		l.Steps[0].Expect.Bridge == nil || len(l.Steps[0].Expect.Bridge.Request) != 2 || len(l.Steps[1].Expect.Answer) != 2 {
		t.Fatalf("parsed %+v", l)
	}
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"web for no domain", "web: hill.test", "web: dale.test", `9: web names domain "dale.test"`},
		{"bridge for no user", "user: jill,", "user: jack,", `11: expect.bridge.user "jack" is not a user of hill.test`},
		{"bridge request without a path", "request: [GET /f/INBOX,", "request: [GET f/INBOX,", `11: expect.bridge.request "GET f/INBOX" must be METHOD /PATH`},
		{"bridge without domain", "bridge: {domain: hill.test, ", "bridge: {", `11: expect.bridge is missing "domain"`},
		{"bridge with nothing to check", "bridge: {domain: hill.test, user: jill, request: [GET /f/INBOX, GET /api/v1/messages], sent: SELECT}", "bridge: {domain: hill.test}", "11: expect.bridge needs request or sent"},
		{"ask without answer", "      answer: [SELECT, EXAMINE]", "      within: 5s", "17: an ask step's expect needs answer"},
		{"answer on a web step", "sent: SELECT}\n", "sent: SELECT}\n      answer: SELECT\n", "12: expect.answer is for ask steps"},
		{"ask not true", "ask: true", "ask: which command", `15: ask must be true`},
		{"talk condition on a web step", "sent: SELECT}\n", "sent: SELECT}\n      verb: SELECT\n", "12: expect.verb is not for web steps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(good, tc.old) {
				t.Fatalf("the test's lesson has no %q", tc.old)
			}
			_, err := Parse("lab.yaml", []byte(strings.Replace(good, tc.old, tc.new, 1)))
			if err == nil || !strings.Contains(err.Error(), "lab.yaml:"+tc.want) {
				t.Errorf("problems do not contain %q:\n%v", "lab.yaml:"+tc.want, err)
			}
		})
	}
}
