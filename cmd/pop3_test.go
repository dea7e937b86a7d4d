package cmd

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/spf13/cobra"
)

func TestPOP3AndIMAPTalkFlags(t *testing.T) {
	for _, mk := range []func(*IOStreams, func(context.Context, *accessTalkOptions) error) *cobra.Command{newPOP3TalkCmd, newIMAPTalkCmd} {
		var got *accessTalkOptions
		ios, _, _ := TestIO("")
		c := mk(ios, func(_ context.Context, o *accessTalkOptions) error { got = o; return nil })
		c.SetArgs([]string{"mx.test:1100", "--starttls", "--insecure", "--record", "x.txt", "--script", "-", "--json", "--quiet", "--response-timeout", "5s"})
		if err := c.Execute(); err != nil {
			t.Fatal(err)
		}
		if got.Addr != "mx.test:1100" || !got.StartTLS || !got.Insecure || got.Record != "x.txt" || got.Script != "-" || !got.JSON || !got.Quiet || got.ResponseTimeout != 5*time.Second {
			t.Errorf("options = %+v", got)
		}
	}
}

func TestSplitHostPort(t *testing.T) {
	for _, tc := range []struct {
		in   string
		host string
		port int
		err  bool
	}{
		{"mx.test", "mx.test", 110, false},
		{"mx.test:1100", "mx.test", 1100, false},
		{"[::1]:995", "::1", 995, false},
		{"[::1]", "::1", 110, false},
		{"::1", "::1", 110, false},
		{"mx.test:pop", "", 0, true},
		{"mx.test:0", "", 0, true},
		{":110", "", 0, true},
	} {
		h, p, err := splitHostPort(tc.in, 0, 110)
		if (err != nil) != tc.err || h != tc.host || p != tc.port {
			t.Errorf("splitHostPort(%q) = %q, %d, %v", tc.in, h, p, err)
		}
	}
}

func TestPOP3TalkUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"pop3", "talk"},
		{"pop3", "talk", "a", "b"},
		{"pop3", "talk", "mx.test", "--tls", "--starttls"},
		{"imap", "talk", "mx.test:99999"},
		{"imap", "bogus"},
	} {
		ios, _, errOut := TestIO("")
		if code := run(context.Background(), args, ios); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d; stderr %s", args, code, ExitUsage, errOut)
		}
	}
}

// startPOP3Lab serves the seed session once on loopback: a scripted server,
// so the binary can be tested without Dovecot.
func startPOP3Lab(t *testing.T) int {
	addr := startServer(t, "+OK POP3 lab ready <42.1@mx.test>", func(l string) (string, bool) {
		switch f := strings.Fields(strings.ToUpper(l)); {
		case len(f) == 0:
			return "-ERR empty command", false
		case f[0] == "LIST":
			return "+OK 2 messages\n1 56\n2 40\n.", false
		case f[0] == "RETR":
			return "+OK\nSubject: lunch\n\nCrepes at noon?\n..dot line\n.", false
		case f[0] == "QUIT":
			return "+OK bye", true
		}
		return "+OK", false
	})
	return addr.(*net.TCPAddr).Port
}

func TestPOP3TalkBinaryThroughPipe(t *testing.T) {
	port := startPOP3Lab(t)
	out, errOut, code := runBinary(t, "user alice\npass hungry\nlist\nretr 1\ndele 1\nquit\n", "pop3", "talk", "127.0.0.1:"+strconv.Itoa(port))
	if code != 0 {
		t.Fatalf("exit %d, stderr %s\n%s", code, errOut, out)
	}
	for _, want := range []string{"== POP3 session with 127.0.0.1:", "S: +OK 2 messages", "S: ..dot line", "byte-stuffed", "UPDATE state"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour escapes in piped output")
	}
}

func TestPOP3TalkRefusedExplained(t *testing.T) {
	ios, _, errOut := TestIO("")
	if code := run(context.Background(), []string{"pop3", "talk", testkit.FreeAddr(t)}, ios); code != ExitFailure || !strings.Contains(errOut.String(), "connection refused") {
		t.Errorf("exit %d, stderr %s", code, errOut)
	}
}

func TestAccessTalkRefusedGreetingFails(t *testing.T) {
	for _, tc := range []struct{ proto, greeting string }{
		{"pop3", "-ERR [SYS/TEMP] too many connections"},
		{"imap", "* BYE too many connections"},
	} {
		addr := startScripted(t, tc.greeting, "", "")
		ios, out, errOut := TestIO("")
		code := run(context.Background(), []string{tc.proto, "talk", addr}, ios)
		if code != ExitFailure || !strings.Contains(errOut.String(), "refused the session") || !strings.Contains(out.String(), tc.greeting) {
			t.Errorf("%s: exit %d, stderr %q\n%s", tc.proto, code, errOut, out)
		}
	}
}
