package lessons

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"time"
)

// webStep waits while the student uses the lab's web mail in a browser:
// Enter checks the bridge's record. A curl command line typed at the prompt
// is run (against the lab's loopback addresses only) and then checked, so
// a student without a browser, and answer scripts, can do the same.
func (r *Runner) webStep(ctx context.Context, i int) error {
	s := r.Lesson.Steps[i]
	sr := &r.results[i]
	url := r.Lab.Placeholders()["web:"+s.Web]
	r.Out.Notef("Web mail of %s: %s (press Enter here when you have done it in the browser, or type a curl command).", s.Web, url)
	for {
		line, err := r.nextLine(i, "web (Enter checks)> ")
		if err != nil {
			return err
		}
		var res *RunResult
		if strings.TrimSpace(line) != "" {
			res = r.runCurl(ctx, line, url)
			if res == nil {
				continue
			}
			if res.Exit != 0 {
				v := fail("run", "curl failed (exit %d): the bridge did not answer that request", res.Exit)
				r.miss(s, sr, v, nil, res, record{Run: res})
				continue
			}
		}
		v := s.Expect.CheckLabProgress(ctx, r.Lab, r.waiting)
		if v.OK {
			r.succeed(s, sr, record{Run: res, Lab: &v})
			return nil
		}
		if res != nil {
			// The request worked but the bridge's record does not show the
			// step's goal yet (a login before opening the folder): a step
			// on the way, not a mistake.
			r.nudge(s, sr, v, nil, record{Run: res, Lab: &v})
			continue
		}
		r.miss(s, sr, v, nil, res, record{Run: res, Lab: &v})
		if !r.Interactive {
			return nil
		}
	}
}

// runCurl runs a curl command line typed in a web step, in the lesson's
// working folder (so a cookie jar such as -c jar -b jar stays there). Every
// URL must be one of this machine's loopback addresses: a lesson never
// sends traffic elsewhere. It returns nil when the line was not run.
func (r *Runner) runCurl(ctx context.Context, line, web string) *RunResult {
	args, err := SplitCommandLine(line)
	if err != nil {
		r.Out.Warning(err.Error())
		return nil
	}
	if len(args) == 0 || !strings.EqualFold(strings.TrimSuffix(args[0], ".exe"), "curl") {
		r.Out.Warning("Here you use the web page in your browser and press Enter, or type a curl command (curl -u USER:PASSWORD URL ...).")
		return nil
	}
	urls := 0
	for _, a := range args[1:] {
		for _, u := range urlsIn(a) {
			urls++
			if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || !loopbackHost(p.Hostname()) {
				r.Out.Warning(fmt.Sprintf("%s is not the lab's web mail: in a lesson, curl may only talk to this machine (%s)", u, web))
				return nil
			}
		}
	}
	if urls == 0 {
		r.Out.Warning(fmt.Sprintf("Give curl the whole address of the web mail, starting with %s", web))
		return nil
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		r.Out.Warning("curl is not installed here (Debian/Ubuntu: apt install curl; it comes with Windows 10 and macOS): use the web page in a browser and press Enter.")
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args[1:]...)
	cmd.Dir = r.Workspace.WorkDir()
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, r.Out.Writer())
	cmd.Stderr = cmd.Stdout
	code := 0
	if err := cmd.Run(); err != nil {
		code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
	}
	if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
		fmt.Fprintln(r.Out.Writer())
	}
	return &RunResult{Dir: cmd.Dir, Args: args, Exit: code, Output: out.String()}
}

func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// askStep asks a question: the typed answer is checked on its words (any
// case, any order), and then the step's lab conditions, such as the
// bridge's record showing the command the answer names.
func (r *Runner) askStep(ctx context.Context, i int) error {
	s := r.Lesson.Steps[i]
	sr := &r.results[i]
	for {
		line, err := r.nextLine(i, "answer> ")
		if err != nil {
			return err
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		res := &RunResult{Answer: line, Exit: -1}
		v := s.Expect.matchAnswer(line)
		if v.OK && s.Expect.HasLabCheck() {
			v = s.Expect.CheckLab(ctx, r.Lab)
		}
		if v.OK {
			r.succeed(s, sr, record{Run: res})
			return nil
		}
		r.miss(s, sr, v, nil, res, record{Run: res})
	}
}

// urlsIn finds the SCHEME://... addresses in one argument, which may also
// be a header such as "Origin: http://127.0.0.1:8080".
func urlsIn(arg string) []string {
	var out []string
	for {
		i := strings.Index(arg, "://")
		if i < 0 {
			return out
		}
		start := i
		for start > 0 && (arg[start-1] >= 'a' && arg[start-1] <= 'z' || arg[start-1] >= 'A' && arg[start-1] <= 'Z' || arg[start-1] >= '0' && arg[start-1] <= '9' || arg[start-1] == '+' || arg[start-1] == '-' || arg[start-1] == '.') {
			start--
		}
		end := strings.IndexFunc(arg[i+3:], func(r rune) bool { return r == ' ' || r == '"' || r == '\'' || r == ',' })
		if end < 0 {
			end = len(arg)
		} else {
			end += i + 3
		}
		out = append(out, arg[start:end])
		arg = arg[end:]
	}
}
