package cmd

import (
	"bufio"
	"encoding/json"
	"io"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// serveProc is the built `mailx serve` running as a subprocess, for the
// crash tests that must SIGKILL a real process and start it again on the
// same data.
type serveProc struct {
	cmd   *exec.Cmd
	addrs map[string]string // bound address by service name, from the JSON start-up report
}

// addr returns the bound address of a service, failing the test when it
// does not listen.
func (p *serveProc) addr(t *testing.T, service string) string {
	t.Helper()
	a := p.addrs[service]
	if a == "" {
		t.Fatalf("no %s listener in the start-up report: %v", service, p.addrs)
	}
	return a
}

// kill stops the server with SIGKILL (TerminateProcess on Windows), as a
// crash or the OOM killer would, and waits for it.
func (p *serveProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
}

// startServeBinary starts bin (the built mailx) as `mailx serve` on data for
// the user bob (password crash-test) in the domain mx.test, with the given
// services ("smtp", "pop3", "imap", ...) on free loopback ports and every
// other listener off, and reads the bound addresses from its JSON start-up
// report. The process is killed in t.Cleanup.
func startServeBinary(t *testing.T, bin, data string, services ...string) *serveProc {
	t.Helper()
	args := []string{"serve", "--json", "--no-welcome", "--data", data, "--domain", "mx.test", "--user", "bob:crash-test",
		"--max-sessions-per-client", "1000"}
	for _, l := range []string{"smtp", "submission", "smtps", "pop3", "pop3s", "imap", "imaps"} {
		if slices.Contains(services, l) {
			args = append(args, "--"+l, "127.0.0.1:0")
		} else {
			args = append(args, "--"+l, "off")
		}
	}
	c := exec.Command(bin, args...)
	c.Env = append(os.Environ(), "MAILX_HOME="+filepath.Join(data, "home"), "NO_COLOR=1")
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: c, addrs: map[string]string{}}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, out)
	}()
	select {
	case l, ok := <-lines:
		var report struct {
			Event  string `json:"event"`
			Listen []struct{ Name, Addr string }
		}
		if !ok || json.Unmarshal([]byte(l), &report) != nil || report.Event != "started" {
			c.Process.Kill()
			c.Wait()
			t.Fatalf("mailx serve did not start: first line %q, stderr:\n%s", l, stderr.String())
		}
		for _, s := range report.Listen {
			p.addrs[s.Name] = s.Addr
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("mailx serve printed nothing in 30 s; stderr:\n%s", stderr.String())
	}
	for _, s := range services {
		p.addr(t, s)
	}
	return p
}

// sendPlain sends each message from → to in one SMTP session, without
// STARTTLS (the tests do not trust the server's certificate), and fails the
// test if any step is refused.
func sendPlain(t *testing.T, addr, from, to string, msgs ...string) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("test.client"); err != nil {
		t.Fatalf("EHLO: %v", err)
	}
	for i, msg := range msgs {
		err := c.Mail(from)
		if err == nil {
			err = c.Rcpt(to)
		}
		var w io.WriteCloser
		if err == nil {
			w, err = c.Data()
		}
		if err == nil {
			io.WriteString(w, msg)
			err = w.Close()
		}
		if err != nil {
			t.Fatalf("sending message %d: %v", i+1, err)
		}
	}
	if err := c.Quit(); err != nil {
		t.Fatalf("QUIT: %v", err)
	}
}
