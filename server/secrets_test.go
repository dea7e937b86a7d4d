package server

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/accounts"
)

// converse sends each step's line and reads lines until one starts with the
// step's want (SMTP continuation lines, IMAP untagged data are skipped).
func converse(t *testing.T, addr, greeting string, steps [][2]string) {
	t.Helper()
	c := dialFrom(t, "127.0.0.1", addr)
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	expect := func(want string) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("%s: waiting for %q: %v", addr, want, err)
			}
			if strings.HasPrefix(line, want) {
				return
			}
		}
	}
	expect(greeting)
	for _, s := range steps {
		fmt.Fprintf(c, "%s\r\n", s[0])
		if s[1] != "" {
			expect(s[1])
		}
	}
}

// TestNoPasswordInAnyFile logs in, rightly and wrongly, with every
// mechanism of every protocol, then searches every file under the data
// directory, and everything the trace hook heard, for the passwords in
// clear and in base64.
func TestNoPasswordInAnyFile(t *testing.T) {
	const good, bad = "Sesame-Open-4lice", "Wr0ng-Guess-7bob"
	var mu sync.Mutex
	var heard []transcript.Event
	cfg := testConfig(t)
	cfg.Users = []accounts.Credential{{Name: "alice", Password: good}, {Name: "bob", Password: "bobs-other-pw"}}
	cfg.Trace = func(ev transcript.Event) { mu.Lock(); heard = append(heard, ev); mu.Unlock() }
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	plain := func(user, pw string) string { return b64("\x00" + user + "\x00" + pw) }
	for _, pw := range []string{good, bad} {
		// SMTP: AUTH PLAIN with an initial response and after a 334, AUTH LOGIN.
		for _, svc := range []string{"smtp", "submission"} {
			converse(t, m.Addr(svc), "220 ", [][2]string{{"EHLO secrets.test", "250 "}, {"AUTH PLAIN " + plain("alice", pw), ""}, {"QUIT", "221"}})
			converse(t, m.Addr(svc), "220 ", [][2]string{{"EHLO secrets.test", "250 "}, {"AUTH PLAIN", "334"}, {plain("alice", pw), ""}, {"QUIT", "221"}})
			converse(t, m.Addr(svc), "220 ", [][2]string{{"EHLO secrets.test", "250 "}, {"AUTH LOGIN", "334"}, {b64("alice"), "334"}, {b64(pw), ""}, {"QUIT", "221"}})
		}
		// POP3: USER/PASS, AUTH PLAIN both ways, APOP (refused, still hidden).
		converse(t, m.Addr("pop3"), "+OK", [][2]string{{"USER alice", "+OK"}, {"PASS " + pw, ""}, {"QUIT", "+OK"}})
		converse(t, m.Addr("pop3"), "+OK", [][2]string{{"AUTH PLAIN " + plain("alice", pw), ""}, {"QUIT", "+OK"}})
		converse(t, m.Addr("pop3"), "+OK", [][2]string{{"AUTH PLAIN", "+ "}, {plain("alice", pw), ""}, {"QUIT", "+OK"}})
		converse(t, m.Addr("pop3"), "+OK", [][2]string{{"APOP alice " + pw, "-ERR"}, {"QUIT", "+OK"}})
		// IMAP: LOGIN with atoms, quoted strings and literals; AUTHENTICATE.
		converse(t, m.Addr("imap"), "* OK", [][2]string{{"a1 LOGIN alice " + pw, "a1 "}, {"z LOGOUT", "z OK"}})
		converse(t, m.Addr("imap"), "* OK", [][2]string{{`a1 LOGIN "alice" "` + pw + `"`, "a1 "}, {"z LOGOUT", "z OK"}})
		converse(t, m.Addr("imap"), "* OK", [][2]string{{"a1 LOGIN alice {" + fmt.Sprint(len(pw)) + "}", "+ "}, {pw, "a1 "}, {"z LOGOUT", "z OK"}})
		converse(t, m.Addr("imap"), "* OK", [][2]string{{"a1 LOGIN alice {" + fmt.Sprint(len(pw)) + "+}", ""}, {pw, "a1 "}, {"z LOGOUT", "z OK"}})
		converse(t, m.Addr("imap"), "* OK", [][2]string{{"a1 AUTHENTICATE PLAIN", "+"}, {plain("alice", pw), "a1 "}, {"z LOGOUT", "z OK"}})
		converse(t, m.Addr("imap"), "* OK", [][2]string{{"a1 AUTHENTICATE PLAIN " + plain("alice", pw), "a1 "}, {"z LOGOUT", "z OK"}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m.Shutdown(ctx)

	secrets := []string{good, bad, b64(good), b64(bad), plain("alice", good), plain("alice", bad)}
	files := 0
	filepath.WalkDir(cfg.Data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		files++
		for _, s := range secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s contains the secret %q", strings.TrimPrefix(path, cfg.Data), s)
			}
		}
		return nil
	})
	if files < 10 {
		t.Errorf("only %d files under the data directory: the logins left no transcripts?", files)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, ev := range heard {
		for _, s := range secrets {
			if strings.Contains(ev.Line, s) {
				t.Errorf("the trace heard the secret %q: %s %s", s, ev.Dir, ev.Line)
			}
		}
	}
	// The transcripts still show what happened, without the secret.
	all := ""
	for _, ev := range heard {
		all += ev.Dir.String() + " " + ev.Line + "\n"
	}
	for _, want := range []string{"PASS ********", "a1 LOGIN alice ********", "a1 AUTHENTICATE PLAIN ********", "AUTH PLAIN <base64 credentials hidden from the trace>"} {
		if !strings.Contains(all, want) {
			t.Errorf("the trace lacks %q", want)
		}
	}
}

// TestParallelAuthGetsTenChecks: 60 parallel wrong AUTH attempts from one
// address on submission get at most 10 password checks (535); the rest are
// refused without one (454 4.7.0).
func TestParallelAuthGetsTenChecks(t *testing.T) {
	m := startMTA(t, testConfig(t))
	plain := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00wrong-guess"))
	var mu sync.Mutex
	codes := map[string]int{}
	var wg sync.WaitGroup
	for i := 0; i < 60; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dialFrom(t, "127.0.0.1", m.Addr("submission"))
			defer c.Close()
			c.SetDeadline(time.Now().Add(60 * time.Second))
			r := bufio.NewReader(c)
			fmt.Fprintf(c, "EHLO guess.test\r\nAUTH PLAIN %s\r\n", plain)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					mu.Lock()
					codes["error"]++
					mu.Unlock()
					return
				}
				if strings.HasPrefix(line, "220") || strings.HasPrefix(line, "250") {
					continue
				}
				mu.Lock()
				codes[line[:3]]++
				mu.Unlock()
				return
			}
		}()
	}
	wg.Wait()
	if codes["535"] > 10 || codes["535"]+codes["454"] != 60 {
		t.Errorf("60 parallel wrong AUTH: %v; want at most 10 × 535 and the rest 454", codes)
	}
	// The address is blocked for everyone, even with the right password.
	converse(t, m.Addr("submission"), "220 ", [][2]string{{"EHLO guess.test", "250 "}, {"AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00alice\x00hungry")), "454 4.7.0 Too many failed logins from your address; try again in"}})
}
