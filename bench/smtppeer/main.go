package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// A workload is one way of loading a server. Messages are smtp-source's
// -l payload bytes; smtp-source adds a few header lines of its own.
type workload struct {
	Name     string
	Sessions int  // concurrent SMTP sessions (smtp-source -s)
	Bytes    int  // payload of each message (smtp-source -l)
	Reuse    bool // all of a session's messages over one connection (smtp-source -d)
	Count    int  // messages in one run, over all sessions (smtp-source -m)
}

// workloads are the ones bench/run.sh measures by default (the first four)
// and one that also pays for a TCP connection and a greeting per message.
// The counts keep each run long enough (seconds, not milliseconds) for the
// rate to mean something on a 2-core machine.
var workloads = []workload{
	{"s1-1k", 1, 1024, true, 10000},
	{"s20-1k", 20, 1024, true, 20000},
	{"s1-100k", 1, 100 * 1024, true, 5000},
	{"s20-100k", 20, 100 * 1024, true, 5000},
	{"s20-1k-conn", 20, 1024, false, 5000},
}

const defaultWorkloads = "s1-1k,s20-1k,s1-100k,s20-100k"

// A target is one server under test.
type target struct {
	Label   string // names it in the output ("postfix", "mailx")
	Addr    string // loopback HOST:PORT
	Maildir string // the recipient's Maildir, or "" not to wait for delivery
}

var labelRE = regexp.MustCompile(`^[A-Za-z0-9._@:+-]{1,40}$`)

// parseTarget reads LABEL=HOST:PORT[,maildir=DIR]. The host must be a
// loopback address or "localhost": this tool sends thousands of messages and
// must never do so to another machine.
func parseTarget(spec string) (target, error) {
	var t target
	label, rest, ok := strings.Cut(spec, "=")
	if !ok {
		return t, fmt.Errorf("target %q: want LABEL=HOST:PORT[,maildir=DIR]", spec)
	}
	if !labelRE.MatchString(label) {
		return t, fmt.Errorf("target %q: a label is 1 to 40 letters, digits or . _ @ : + -", spec)
	}
	addr, md, hasMD := strings.Cut(rest, ",maildir=")
	if hasMD && md == "" {
		return t, fmt.Errorf("target %q: maildir= needs a directory", spec)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return t, fmt.Errorf("target %q: %v (want HOST:PORT, e.g. 127.0.0.1:25)", spec, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return t, fmt.Errorf("target %q: port %q is not a number from 1 to 65535", spec, port)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return t, fmt.Errorf("target %q: %s is not a loopback address; smtppeer only talks to 127.0.0.0/8, ::1 or localhost", spec, host)
	}
	return target{Label: label, Addr: addr, Maildir: md}, nil
}

// selectWorkloads returns the workloads named in a comma-separated list.
func selectWorkloads(list string) ([]workload, error) {
	var out []workload
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		found := false
		for _, w := range workloads {
			if w.Name == name {
				out = append(out, w)
				found = true
				break
			}
		}
		if !found {
			var names []string
			for _, w := range workloads {
				names = append(names, w.Name)
			}
			return nil, fmt.Errorf("unknown workload %q (known: %s)", name, strings.Join(names, ", "))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no workload given")
	}
	return out, nil
}

// A result is one run of one workload against one target.
type result struct {
	Target, Workload string
	Rep, Count       int
	Secs             float64 // until smtp-source exited
	Err              string  // why the run failed, "" if it did not
	DeliverSecs      float64 // until the last message was in the Maildir; 0 if not measured
	DeliverErr       string  // why delivery was not measured to the end
}

func (r result) rate() float64 { return float64(r.Count) / r.Secs }

func (r result) deliverRate() float64 { return float64(r.Count) / r.DeliverSecs }

type config struct {
	runs           int
	count          int
	from, to       string
	runTimeout     time.Duration
	deliverTimeout time.Duration
	pause          time.Duration
	ref            string
	smtpSource     string
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smtppeer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var wlist string
	fs.IntVar(&c.runs, "r", 3, "repetitions of every workload; the summary gives the median")
	fs.StringVar(&wlist, "w", defaultWorkloads, "comma-separated workloads (s1-1k, s20-1k, s1-100k, s20-100k, s20-1k-conn)")
	fs.IntVar(&c.count, "n", 0, "messages per run instead of each workload's own count")
	fs.StringVar(&c.from, "f", "bench@localhost", "envelope sender")
	fs.StringVar(&c.to, "t", "bench@localhost", "envelope recipient (the owner of the Maildirs)")
	fs.DurationVar(&c.runTimeout, "run-timeout", 5*time.Minute, "limit of one smtp-source run")
	fs.DurationVar(&c.deliverTimeout, "deliver-timeout", 10*time.Minute, "limit of one wait for the Maildir")
	fs.DurationVar(&c.pause, "pause", time.Second, "pause between runs")
	fs.StringVar(&c.ref, "ref", "", "label of the target the others are compared with (default: the first)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: smtppeer [flags] LABEL=HOST:PORT[,maildir=DIR]...")
		fmt.Fprintln(stderr, "Drives each target with Postfix's smtp-source and prints ratios to the first (or -ref) target.")
		fmt.Fprintln(stderr, "example: go run ./bench/smtppeer -r 1 -n 500 postfix=127.0.0.1:25,maildir=/home/bench/Maildir mailx=127.0.0.1:2525,maildir=/tmp/d/mail/bench")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "smtppeer: "+format+"\n", a...)
		fmt.Fprintln(stderr, "Run 'go run ./bench/smtppeer -h' for the flags.")
		return 2
	}
	if c.runs < 1 || c.runs > 50 {
		return usage("-r %d: give 1 to 50 repetitions", c.runs)
	}
	if c.count < 0 || c.count > 1000000 {
		return usage("-n %d: give 1 to 1000000 messages (0 keeps each workload's count)", c.count)
	}
	ws, err := selectWorkloads(wlist)
	if err != nil {
		return usage("-w: %v", err)
	}
	if fs.NArg() == 0 {
		return usage("name at least one target, e.g. postfix=127.0.0.1:25,maildir=/home/bench/Maildir")
	}
	var ts []target
	seen := map[string]bool{}
	for _, spec := range fs.Args() {
		t, err := parseTarget(spec)
		if err != nil {
			return usage("%v", err)
		}
		if seen[t.Label] {
			return usage("two targets are labelled %q", t.Label)
		}
		seen[t.Label] = true
		if t.Maildir != "" {
			if fi, err := os.Stat(t.Maildir); err == nil && !fi.IsDir() {
				return usage("target %s: maildir %s is not a directory", t.Label, t.Maildir)
			}
		}
		ts = append(ts, t)
	}
	if c.ref == "" {
		c.ref = ts[0].Label
	} else if !seen[c.ref] {
		return usage("-ref %q names no target", c.ref)
	}
	c.smtpSource, err = findSMTPSource()
	if err != nil {
		fmt.Fprintf(stderr, "smtppeer: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Fprintf(stdout, "# smtppeer: %s host=%s cores=%d os=%s smtp-source=%s runs=%d\n",
		time.Now().UTC().Format(time.RFC3339), hostname(), runtime.NumCPU(), runtime.GOOS, c.smtpSource, c.runs)
	fmt.Fprintf(stdout, "# %-3s %-16s %-12s %3s %7s %9s %10s %s\n", "run", "target", "workload", "rep", "msgs", "secs", "msg/s", "into-maildir")
	var results []result
	failed := false
	for rep := 1; rep <= c.runs; rep++ {
		for _, w := range ws {
			if c.count > 0 {
				w.Count = c.count
			}
			for _, t := range ts {
				if ctx.Err() != nil {
					fmt.Fprintln(stderr, "smtppeer: interrupted")
					return 1
				}
				r := runOnce(ctx, c, t, w, rep)
				results = append(results, r)
				printRun(stdout, r)
				if r.Err != "" || r.DeliverErr != "" {
					failed = true
				}
				sleep(ctx, c.pause)
			}
		}
	}
	summarize(stdout, results, ts, ws, c.ref)
	if failed {
		fmt.Fprintln(stderr, "smtppeer: some runs failed or did not reach the Maildir in time (see FAIL and INCOMPLETE above)")
		return 1
	}
	return 0
}

// findSMTPSource looks for Postfix's smtp-source on PATH, then where Debian
// puts it (/usr/sbin is not on an ordinary user's PATH).
func findSMTPSource() (string, error) {
	if p, err := exec.LookPath("smtp-source"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/smtp-source", "/usr/local/sbin/smtp-source", "/opt/homebrew/sbin/smtp-source"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("smtp-source not found: install Postfix's tools (Debian and Ubuntu: apt-get install postfix)")
}

// runOnce runs smtp-source once and, if the target has a Maildir, waits
// until the run's messages are all in it.
func runOnce(ctx context.Context, c config, t target, w workload, rep int) result {
	r := result{Target: t.Label, Workload: w.Name, Rep: rep, Count: w.Count}
	base := 0
	if t.Maildir != "" {
		base = countMaildir(t.Maildir)
	}
	args := []string{"-s", strconv.Itoa(w.Sessions), "-l", strconv.Itoa(w.Bytes), "-m", strconv.Itoa(w.Count),
		"-f", c.from, "-t", c.to, "-M", "localhost"}
	if w.Reuse {
		args = append(args, "-d")
	}
	args = append(args, t.Addr)
	rctx, cancel := context.WithTimeout(ctx, c.runTimeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, c.smtpSource, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	r.Secs = time.Since(start).Seconds()
	if err != nil {
		msg := strings.TrimSpace(out.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		if rctx.Err() == context.DeadlineExceeded {
			msg = fmt.Sprintf("still running after %s", c.runTimeout)
		} else if msg == "" {
			msg = err.Error()
		}
		r.Err = msg
		return r
	}
	if t.Maildir == "" {
		return r
	}
	want := base + w.Count
	deadline := time.Now().Add(c.deliverTimeout)
	got := countMaildir(t.Maildir)
	for got < want && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
		got = countMaildir(t.Maildir)
	}
	if got < want {
		r.DeliverErr = fmt.Sprintf("INCOMPLETE(%d/%d)", got-base, w.Count)
		return r
	}
	r.DeliverSecs = time.Since(start).Seconds()
	return r
}

// countMaildir counts the entries of DIR/new and DIR/cur: the messages a
// reader can see. Directories that do not exist yet count as empty.
func countMaildir(dir string) int {
	n := 0
	for _, sub := range []string{"new", "cur"} {
		f, err := os.Open(filepath.Join(dir, sub))
		if err != nil {
			continue
		}
		for {
			names, err := f.Readdirnames(4096)
			n += len(names)
			if err != nil {
				break
			}
		}
		f.Close()
	}
	return n
}

func printRun(w io.Writer, r result) {
	rate := fmt.Sprintf("%.1f", r.rate())
	if r.Err != "" {
		rate = "FAIL"
	}
	deliv := "-"
	switch {
	case r.DeliverErr != "":
		deliv = r.DeliverErr
	case r.DeliverSecs > 0:
		deliv = fmt.Sprintf("%.3f", r.DeliverSecs)
	}
	fmt.Fprintf(w, "run   %-16s %-12s %3d %7d %9.3f %10s %s\n", r.Target, r.Workload, r.Rep, r.Count, r.Secs, rate, deliv)
	if r.Err != "" {
		fmt.Fprintf(w, "#     %s: smtp-source failed: %s\n", r.Target, r.Err)
	}
}

// median returns the middle value of xs (the mean of the two middle ones
// for an even count), and false for none.
func median(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m], true
	}
	return (s[m-1] + s[m]) / 2, true
}

// stat is one target's medians on one workload.
type stat struct {
	accept, deliver     float64
	hasAccept, hasDeliv bool
	lo, hi              float64
	failed              int
}

func stats(results []result, label, wname string) stat {
	var st stat
	var acc, del []float64
	for _, r := range results {
		if r.Target != label || r.Workload != wname {
			continue
		}
		if r.Err != "" {
			st.failed++
			continue
		}
		acc = append(acc, r.rate())
		if r.DeliverSecs > 0 {
			del = append(del, r.deliverRate())
		}
	}
	st.accept, st.hasAccept = median(acc)
	st.deliver, st.hasDeliv = median(del)
	if len(acc) > 0 {
		st.lo, st.hi = acc[0], acc[0]
		for _, a := range acc {
			st.lo, st.hi = min(st.lo, a), max(st.hi, a)
		}
	}
	return st
}

// summarize prints, per workload and target, the median rates and their
// ratio to the reference target's from the same invocation.
func summarize(w io.Writer, results []result, ts []target, ws []workload, ref string) {
	fmt.Fprintln(w)
	fmt.Fprintf(w, "# medians; ratios are to %s in this same invocation (accepted: msg/s until the last 250;\n", ref)
	fmt.Fprintln(w, "# into Maildir: msg/s until the last message is a file in the recipient's Maildir)")
	fmt.Fprintf(w, "%-12s %-16s %10s %17s %8s %12s %8s\n", "workload", "target", "accepted/s", "(min..max)", "ratio", "maildir/s", "ratio")
	for _, wl := range ws {
		rs := stats(results, ref, wl.Name)
		for _, t := range ts {
			st := stats(results, t.Label, wl.Name)
			acc, span, ratio := "NA", "", "-"
			if st.hasAccept {
				acc = fmt.Sprintf("%.1f", st.accept)
				span = fmt.Sprintf("(%.0f..%.0f)", st.lo, st.hi)
				if t.Label != ref && rs.hasAccept {
					ratio = fmt.Sprintf("x%.2f", st.accept/rs.accept)
				}
			}
			del, dratio := "-", "-"
			if st.hasDeliv {
				del = fmt.Sprintf("%.1f", st.deliver)
				if t.Label != ref && rs.hasDeliv {
					dratio = fmt.Sprintf("x%.2f", st.deliver/rs.deliver)
				}
			} else if t.Maildir != "" {
				del = "NA"
			}
			line := fmt.Sprintf("%-12s %-16s %10s %17s %8s %12s %8s", wl.Name, t.Label, acc, span, ratio, del, dratio)
			if st.failed > 0 {
				line += fmt.Sprintf("  (%d failed runs)", st.failed)
			}
			fmt.Fprintln(w, line)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "?"
	}
	return h
}
