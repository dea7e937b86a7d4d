package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseTarget(t *testing.T) {
	good := []struct {
		spec string
		want target
	}{
		{"postfix=127.0.0.1:25", target{"postfix", "127.0.0.1:25", ""}},
		{"mailx=127.0.0.1:2525,maildir=/tmp/d/mail/bench", target{"mailx", "127.0.0.1:2525", "/tmp/d/mail/bench"}},
		{"mailx@abc123=localhost:2526", target{"mailx@abc123", "localhost:2526", ""}},
		{"v6=[::1]:25", target{"v6", "[::1]:25", ""}},
		{"lo=127.9.8.7:25,maildir=C:\\mail", target{"lo", "127.9.8.7:25", "C:\\mail"}},
	}
	for _, tc := range good {
		got, err := parseTarget(tc.spec)
		if err != nil || got != tc.want {
			t.Errorf("parseTarget(%q) = %+v, %v; want %+v", tc.spec, got, err, tc.want)
		}
	}
	bad := map[string]string{
		"127.0.0.1:25":                    "LABEL=HOST:PORT",
		"x=10.0.0.1:25":                   "not a loopback",
		"x=mail.example.com:25":           "not a loopback",
		"x=0.0.0.0:25":                    "not a loopback",
		"x=127.0.0.1":                     "HOST:PORT",
		"x=127.0.0.1:smtp":                "not a number",
		"x=127.0.0.1:70000":               "not a number",
		"x=127.0.0.1:25,maildir=":         "needs a directory",
		"a b=127.0.0.1:25":                "a label is",
		"=127.0.0.1:25":                   "a label is",
		"127.0.0.1:25,maildir=/x=y":       "a label is",
		"x=127.0.0.1:25,maildir=/m,other": "", // a Maildir path may hold commas
	}
	for spec, want := range bad {
		_, err := parseTarget(spec)
		if want == "" {
			if err != nil {
				t.Errorf("parseTarget(%q): %v; want no error", spec, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseTarget(%q) error = %v; want one containing %q", spec, err, want)
		}
	}
}

func TestSelectWorkloads(t *testing.T) {
	ws, err := selectWorkloads("s20-100k, s1-1k")
	if err != nil || len(ws) != 2 || ws[0].Name != "s20-100k" || ws[0].Sessions != 20 || ws[0].Bytes != 102400 || ws[1].Name != "s1-1k" || !ws[1].Reuse {
		t.Errorf("selectWorkloads = %+v, %v", ws, err)
	}
	ws, err = selectWorkloads(defaultWorkloads)
	if err != nil || len(ws) != 4 {
		t.Errorf("default workloads = %+v, %v; want the four of the README table", ws, err)
	}
	if _, err := selectWorkloads("s1-1k,s3-1k"); err == nil || !strings.Contains(err.Error(), `"s3-1k"`) || !strings.Contains(err.Error(), "s20-1k-conn") {
		t.Errorf("unknown workload error = %v; want it named, with the known ones", err)
	}
	if _, err := selectWorkloads(" , "); err == nil {
		t.Error("an empty list was accepted")
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got, ok := median(tc.in); !ok || got != tc.want {
			t.Errorf("median(%v) = %v, %v; want %v", tc.in, got, ok, tc.want)
		}
	}
	if _, ok := median(nil); ok {
		t.Error("median(nil) reported a value")
	}
}

func TestCountMaildir(t *testing.T) {
	dir := t.TempDir()
	if n := countMaildir(filepath.Join(dir, "missing")); n != 0 {
		t.Errorf("a missing Maildir counts %d", n)
	}
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, sub := range []string{"new", "new", "cur", "tmp"} {
		if err := os.WriteFile(filepath.Join(dir, sub, strings.Repeat("m", i+1)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n := countMaildir(dir); n != 3 {
		t.Errorf("countMaildir = %d; want 3 (new/ and cur/, not tmp/)", n)
	}
}

func TestSummarizeRatios(t *testing.T) {
	ts := []target{{"postfix", "127.0.0.1:25", "/p"}, {"mailx", "127.0.0.1:2525", "/m"}}
	ws := []workload{{"s1-1k", 1, 1024, true, 100}}
	res := []result{
		{Target: "postfix", Workload: "s1-1k", Rep: 1, Count: 100, Secs: 1, DeliverSecs: 2},
		{Target: "mailx", Workload: "s1-1k", Rep: 1, Count: 100, Secs: 0.25, DeliverSecs: 0.5},
		{Target: "postfix", Workload: "s1-1k", Rep: 2, Count: 100, Secs: 1, DeliverSecs: 2},
		{Target: "mailx", Workload: "s1-1k", Rep: 2, Count: 100, Secs: 0.25, Err: "lost connection"},
	}
	var b bytes.Buffer
	summarize(&b, res, ts, ws, "postfix")
	out := b.String()
	for _, want := range []string{"x4.00", "400.0", "200.0", "(1 failed runs)", "ratios are to postfix"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestRunRefusesBadInvocations(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-r", "0", "a=127.0.0.1:25"},
		{"-w", "nope", "a=127.0.0.1:25"},
		{"a=192.0.2.1:25"},
		{"a=127.0.0.1:25", "a=127.0.0.1:26"},
		{"-ref", "b", "a=127.0.0.1:25"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || errb.Len() == 0 || out.Len() != 0 {
			t.Errorf("run(%q) = %d, stderr %q, stdout %q; want 2, an explanation, nothing measured", args, code, errb.String(), out.String())
		}
	}
}

// TestMain lets this test binary stand in for smtp-source: with
// SMTPPEER_FAKE set it behaves as the fake named there and exits.
func TestMain(m *testing.M) {
	if mode := os.Getenv("SMTPPEER_FAKE"); mode != "" {
		os.Exit(fakeSMTPSource(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeSMTPSource "delivers" by writing files into SMTPPEER_MAILDIR/new:
// all -m of them ("ok"), one fewer ("short"), or fails as smtp-source does
// when a server refuses ("fail").
func fakeSMTPSource(mode string, args []string) int {
	n := 0
	for i, a := range args {
		if a == "-m" && i+1 < len(args) {
			n, _ = strconv.Atoi(args[i+1])
		}
	}
	if mode == "fail" {
		fmt.Fprintln(os.Stderr, "smtp-source: warning: connect #1 ok")
		fmt.Fprintln(os.Stderr, "smtp-source: fatal: recipient rejected: 550 5.1.1 unknown")
		return 1
	}
	if mode == "short" {
		n--
	}
	dir := filepath.Join(os.Getenv("SMTPPEER_MAILDIR"), "new")
	os.MkdirAll(dir, 0o755)
	for i := 0; i < n; i++ {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("m%d.%d", os.Getpid(), i)), []byte("x"), 0o644)
	}
	return 0
}

func TestRunOnce(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	md := t.TempDir()
	t.Setenv("SMTPPEER_MAILDIR", md)
	c := config{from: "a@localhost", to: "b@localhost", runTimeout: time.Minute, deliverTimeout: 300 * time.Millisecond, smtpSource: self}
	tg := target{Label: "x", Addr: "127.0.0.1:25", Maildir: md}
	w := workload{"s1-1k", 1, 1024, true, 7}

	t.Setenv("SMTPPEER_FAKE", "ok")
	r := runOnce(context.Background(), c, tg, w, 1)
	if r.Err != "" || r.DeliverErr != "" || r.DeliverSecs <= 0 || r.Secs <= 0 || r.Count != 7 {
		t.Errorf("complete run = %+v; want no error, both times measured", r)
	}
	// A second run counts from what is already there.
	t.Setenv("SMTPPEER_FAKE", "short")
	r = runOnce(context.Background(), c, tg, w, 2)
	if r.DeliverErr != "INCOMPLETE(6/7)" || r.DeliverSecs != 0 {
		t.Errorf("short run = %+v; want INCOMPLETE(6/7)", r)
	}
	t.Setenv("SMTPPEER_FAKE", "fail")
	r = runOnce(context.Background(), c, tg, w, 3)
	if !strings.Contains(r.Err, "fatal: recipient rejected") {
		t.Errorf("failed run = %+v; want smtp-source's last line as the error", r)
	}
	// Without a Maildir, delivery is not waited for.
	t.Setenv("SMTPPEER_FAKE", "ok")
	r = runOnce(context.Background(), c, target{Label: "y", Addr: "127.0.0.1:25"}, w, 1)
	if r.Err != "" || r.DeliverErr != "" || r.DeliverSecs != 0 {
		t.Errorf("run without a Maildir = %+v", r)
	}
}
