package lessons

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Gradescope writes res as Gradescope's results.json (the autograder
// specification: a "tests" list with name, score, max_score and output,
// and the total "score"), one point per step.
func Gradescope(w io.Writer, l *Lesson, res *Result) error {
	type test struct {
		Name     string  `json:"name"`
		Number   string  `json:"number"`
		Score    float64 `json:"score"`
		MaxScore float64 `json:"max_score"`
		Status   string  `json:"status"`
		Output   string  `json:"output"`
	}
	out := struct {
		Score            float64 `json:"score"`
		Output           string  `json:"output"`
		Visibility       string  `json:"visibility"`
		StdoutVisibility string  `json:"stdout_visibility"`
		Tests            []test  `json:"tests"`
	}{Visibility: "visible", StdoutVisibility: "hidden"}
	for i, s := range res.Steps {
		t := test{Name: fmt.Sprintf("Step %d: %s", i+1, s.Title), Number: fmt.Sprint(i + 1), MaxScore: 1, Status: "failed", Output: stepOutput(s)}
		if s.OK {
			t.Score, t.Status = 1, "passed"
			out.Score++
		}
		out.Tests = append(out.Tests, t)
	}
	out.Output = fmt.Sprintf("%s: %d of %d steps passed.", l.Title, res.Passed, res.Total)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func stepOutput(s StepResult) string {
	switch {
	case s.OK && s.Tries == 0:
		return "passed on the first try"
	case s.OK:
		return fmt.Sprintf("passed after %d wrong tr%s", s.Tries, plural(s.Tries, "y", "ies"))
	case s.Why != "":
		return "not passed: " + s.Why
	}
	return "not passed"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// JUnit writes res as a JUnit XML report (one testsuite, one testcase per
// step, a failure element for each step that did not pass), the format
// GitHub Classroom, GitLab and most CI systems read.
func JUnit(w io.Writer, l *Lesson, res *Result) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		SystemOut string   `xml:"system-out,omitempty"`
	}
	type suite struct {
		XMLName  xml.Name   `xml:"testsuite"`
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	su := suite{Name: "mailx lessons " + l.Name, Tests: len(res.Steps)}
	for i, s := range res.Steps {
		tc := testcase{Name: fmt.Sprintf("%02d %s", i+1, s.Title), Classname: "lessons." + l.Name, SystemOut: stepOutput(s)}
		if !s.OK {
			su.Failures++
			why := s.Why
			if why == "" {
				why = "not passed"
			}
			tc.Failure = &failure{Message: why, Text: strings.TrimSpace(why)}
		}
		su.Cases = append(su.Cases, tc)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(su); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
