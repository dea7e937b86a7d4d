package pop3

import (
	"bufio"
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/server/access"
	"github.com/mailx-edu/mailx/server/maildir"
)

// loopPipe is an in-memory connection that claims a loopback peer, so the
// fuzzer reaches the commands that need a login.
type loopPipe struct{ net.Conn }

func (loopPipe) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// FuzzParseCommand feeds arbitrary client input, line by line, to a real
// session over the Maildir: the server must never panic, must answer every
// line with a status line ("+OK", "-ERR" or a "+ " challenge) or a
// multi-line body ended by ".", always with CRLF, and must end the session
// when the input ends.
func FuzzParseCommand(f *testing.F) {
	for _, seed := range []string{
		"user alice\r\npass hungry\r\nlist\r\nretr 1\r\ndele 1\r\nretr 2\r\ndele 2\r\nquit\r\n",
		"USER alice\r\nPASS hungry\r\nTOP 2 1\r\nUIDL\r\nUIDL 2\r\nLIST 2\r\nSTAT\r\nRSET\r\nNOOP\r\n",
		"CAPA\r\nAUTH\r\nAUTH PLAIN\r\nAGFsaWNlAGh1bmdyeQ==\r\nRETR 0\r\nRETR 99999999999999999999\r\n",
		"AUTH PLAIN =\r\n*\r\nAPOP alice 00\r\nSTLS\r\nuser\r\npass\r\n\x00\x01\r\n" + strings.Repeat("x", 300) + "\r\n",
		"USER alice\npass hungry\nTOP 1 -1\nTOP 1 x\nDELE 1\nDELE 1\nRETR 1\nQUIT\n",
	} {
		f.Add(seed)
	}
	data := f.TempDir()
	srv := New(Config{
		MailboxServer: access.MailboxServer{
			Hostname: "mx.test",
			Accounts: practice,
			MailRoot: func(u string) string { return maildir.Root(data, u) },
			Throttle: &access.Throttle{Delay: time.Nanosecond},
		},
		Timeout: 2 * time.Second,
	})
	root := maildir.Root(data, "alice")
	f.Fuzz(func(t *testing.T, input string) {
		if msgs := inboxAt(t, root); len(msgs) < 2 {
			for _, m := range []string{msg1, msg2} {
				maildir.Deliver(root, strings.NewReader(m), maildir.DeliverOptions{})
			}
		}
		srvEnd, cliEnd := net.Pipe()
		srv.start(loopPipe{srvEnd})
		defer cliEnd.Close()
		cliEnd.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			cliEnd.Write([]byte(input + "\r\nQUIT\r\n"))
		}()
		br := bufio.NewReader(cliEnd)
		multi := false
		for {
			line, err := br.ReadBytes('\n')
			if len(line) == 0 && err != nil {
				break
			}
			if !bytes.HasSuffix(line, []byte("\r\n")) {
				t.Fatalf("server line %q does not end in CRLF", line)
			}
			l := string(line[:len(line)-2])
			switch {
			case multi:
				if l == "." {
					multi = false
				}
			case strings.HasPrefix(l, "+OK"):
				// Whether a body follows depends on the command; a body
				// line never starts like a status line, so track loosely.
				multi = strings.Contains(l, "octets") && !strings.Contains(l, "maildrop") ||
					strings.Contains(l, "follow") || strings.HasSuffix(l, "messages)") && !strings.Contains(l, "maildrop")
			case strings.HasPrefix(l, "-ERR"), strings.HasPrefix(l, "+ "):
			default:
				t.Fatalf("server line %q is not +OK, -ERR or a challenge", l)
			}
		}
	})
}

func inboxAt(t *testing.T, root string) []maildir.Message {
	f, err := maildir.OpenFolder(root)
	if err != nil {
		return nil
	}
	msgs, _ := f.Messages()
	return msgs
}
