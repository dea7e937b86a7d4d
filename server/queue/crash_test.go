package queue

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashHelperEnv makes the test binary act as a queue-owning server process
// (see TestMain) that the crash test kills with SIGKILL.
const crashHelperEnv = "MAILX_QUEUE_CRASH_HELPER"

// crashRcptsEnv lists the helper's recipients, comma-separated: local
// recipients only take the fast path (the journal, then their Maildirs),
// a remote one among them puts the message into a queue slot.
const crashRcptsEnv = "MAILX_QUEUE_CRASH_RCPTS"

func TestMain(m *testing.M) {
	if data := os.Getenv(crashHelperEnv); data != "" {
		os.Exit(crashHelper(data))
	}
	os.Exit(m.Run())
}

// crashHelper opens and starts the queue in data, then for every number N
// read from stdin commits a message "crash-test N" to bob (concurrently, as
// SMTP sessions would) and prints "ACK N" only after Commit returned: the
// equivalent of the server's 250.
func crashHelper(data string) int {
	q, err := Open(Options{Data: data, Resolve: localUsers})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	q.Start(context.Background())
	rcpts := strings.Split(os.Getenv(crashRcptsEnv), ",")
	var outMu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		n := in.Text()
		go func() {
			w, err := q.Begin()
			if err != nil {
				return
			}
			fmt.Fprintf(w, "Subject: crash-test %s\r\n\r\n%s\r\n", n, strings.Repeat("x", 2000))
			if _, err := w.Commit(Envelope{From: "a@far.test", To: rcpts, Received: time.Now()}); err != nil {
				w.Abort()
				return
			}
			outMu.Lock()
			fmt.Fprintf(out, "ACK %s\n", n)
			out.Flush()
			outMu.Unlock()
		}()
	}
	select {} // until killed
}

// TestCrashKeepsEveryAcknowledgedMessageOnce kills a process that owns the
// queue in the middle of a 20-way load with SIGKILL (Kill on Windows), then
// recovers the queue in this process: every acknowledged message must reach
// each recipient's Maildir exactly once, and nothing that was never sent may
// appear. Messages for bob and a remote recipient go through queue slots;
// messages for bob alone, and for bob and alice, take the fast path: the
// journal, then their Maildirs before Commit returns, with the journal
// replayed at the restart.
func TestCrashKeepsEveryAcknowledgedMessageOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs a subprocess; skipped with -short")
	}
	t.Run("queued", func(t *testing.T) { crashTest(t, false, "bob@mx.test", "dave@far.test") })
	t.Run("fast-path", func(t *testing.T) { crashTest(t, true, "bob@mx.test") })
	t.Run("fast-path-two-rcpts", func(t *testing.T) { crashTest(t, true, "bob@mx.test", "alice@mx.test") })
}

func crashTest(t *testing.T, fast bool, rcpts ...string) {
	var users []string
	for _, r := range rcpts {
		if u, ok := localUsers(r); ok {
			users = append(users, u)
		}
	}
	data := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashHelperEnv+"="+data, crashRcptsEnv+"="+strings.Join(rcpts, ","))
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	const sessions, killAfter = 20, 400
	sem := make(chan struct{}, sessions)
	var mu sync.Mutex
	acked := map[int]bool{}
	sent := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			n, _ := strconv.Atoi(strings.TrimPrefix(sc.Text(), "ACK "))
			mu.Lock()
			acked[n] = true
			mu.Unlock()
			<-sem
		}
	}()
	deadline := time.After(30 * time.Second)
send:
	for n := 1; ; n++ {
		select {
		case sem <- struct{}{}:
		case <-deadline:
			t.Fatal("the helper stopped acknowledging")
		}
		mu.Lock()
		k := len(acked)
		mu.Unlock()
		if k >= killAfter {
			break send
		}
		fmt.Fprintf(stdin, "%d\n", n)
		sent = n
	}
	// Kill with commits (and deliveries) in flight.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	<-done
	t.Logf("sent %d, acknowledged %d before SIGKILL", sent, len(acked))

	q, err := Open(Options{Data: data, Resolve: localUsers})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	q.Start(context.Background())
	waitFor(t, "recovered messages to be delivered", func() bool {
		for _, m := range q.List() {
			for _, r := range m.Recipients {
				if _, local := localUsers(r.Addr); local && !r.State.Final() {
					return false
				}
			}
		}
		return true
	})

	subject := regexp.MustCompile(`(?m)^Subject: crash-test (\d+)$`)
	for _, user := range users {
		// Deliveries cut short left nothing behind in tmp/, and local
		// recipients only mean the fast path (names with .M<usec>P<pid>),
		// a remote one the queue.
		if tmp, _ := os.ReadDir(filepath.Join(data, "mail", user, "tmp")); len(tmp) != 0 {
			t.Errorf("%s: tmp/ holds %d leftovers after recovery", user, len(tmp))
		}
		direct := 0
		for _, p := range maildirFiles(t, data, user) {
			if strings.Contains(filepath.Base(p), ".M") {
				direct++
			}
		}
		if fast && direct == 0 || !fast && direct != 0 {
			t.Errorf("%s: %d messages delivered by the fast path, for %d recipient(s) each", user, direct, len(users))
		}
		count := map[int]int{}
		for _, p := range maildirFiles(t, data, user) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			m := subject.FindSubmatch(b)
			if m == nil || !strings.HasSuffix(string(b), strings.Repeat("x", 2000)+"\n") {
				t.Errorf("%s: damaged message in the Maildir: %s", user, filepath.Base(p))
				continue
			}
			n, _ := strconv.Atoi(string(m[1]))
			count[n]++
		}
		for n := range acked {
			if count[n] != 1 {
				t.Errorf("%s: acknowledged message %d delivered %d times, want once", user, n, count[n])
			}
		}
		extra := 0
		for n, c := range count {
			if n < 1 || n > sent {
				t.Errorf("%s: message %d was never sent but was delivered", user, n)
			}
			if c > 1 {
				t.Errorf("%s: message %d delivered %d times", user, n, c)
			}
			if !acked[n] {
				extra++
			}
		}
		// A message whose commit finished but whose ACK the kill cut off is
		// legitimately delivered: the client never learnt either way.
		t.Logf("%s: %d delivered, %d of them committed but not acknowledged when killed", user, len(count), extra)
	}
}
