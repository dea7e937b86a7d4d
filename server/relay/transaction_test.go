package relay

import (
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/mx"
	"github.com/mailx-edu/mailx/server/queue"
)

// TestTransactionSteps drives each step of the mail transaction into its
// refusals and lost connections, against a first exchanger that misbehaves
// and a second one that works. Each case checks the Results and whether
// the step sent the caller on to the next exchanger: only when nothing can
// have been delivered (before any RCPT was accepted, or on a 421), never
// after the final "." (the message may have arrived).
func TestTransactionSteps(t *testing.T) {
	slow := func(d time.Duration) string { time.Sleep(d); return "" }
	cases := []struct {
		name       string
		pipelining bool
		rcpts      []string
		answer     func(line string) string
		want       []int  // result codes
		next       bool   // the second exchanger got the message
		reply      string // in the first Result's text, if set
		sawOnFirst []string
		notOnFirst []string
	}{
		{name: "MAIL refused, pipelined", pipelining: true, rcpts: []string{"bob@hamburger.test"},
			answer: func(l string) string {
				switch {
				case strings.HasPrefix(l, "MAIL"):
					return "550 5.7.1 sender refused"
				case strings.HasPrefix(l, "RCPT"), l == "DATA":
					return "503 5.5.1 no valid sender"
				}
				return ""
			},
			want: []int{550}, sawOnFirst: []string{"RCPT TO:<bob@hamburger.test>", "DATA", "QUIT"}},
		{name: "MAIL refused, one command at a time", rcpts: []string{"bob@hamburger.test"}, reply: "5.7.1 sender refused",
			answer: func(l string) string {
				if strings.HasPrefix(l, "MAIL") {
					return "550 5.7.1 sender refused"
				}
				return ""
			},
			want: []int{550}, sawOnFirst: []string{"QUIT"}, notOnFirst: []string{"RCPT TO:<bob@hamburger.test>"}},
		{name: "MAIL gets 421", rcpts: []string{"bob@hamburger.test"},
			answer: func(l string) string {
				if strings.HasPrefix(l, "MAIL") {
					return "421 4.3.2 shutting down"
				}
				return ""
			},
			want: []int{250}, next: true},
		{name: "connection lost after MAIL", rcpts: []string{"bob@hamburger.test"},
			answer: func(l string) string {
				if strings.HasPrefix(l, "MAIL") {
					return slow(time.Second)
				}
				return ""
			},
			want: []int{250}, next: true},
		{name: "RCPT gets 421 before any was accepted", rcpts: []string{"bob@hamburger.test", "carol@hamburger.test"},
			answer: func(l string) string {
				if strings.HasPrefix(l, "RCPT") {
					return "421 4.3.2 shutting down"
				}
				return ""
			},
			want: []int{250, 250}, next: true},
		{name: "RCPT gets 421 after one was accepted", rcpts: []string{"bob@hamburger.test", "carol@hamburger.test"},
			answer: func(l string) string {
				if strings.Contains(l, "carol@") {
					return "421 4.3.2 shutting down"
				}
				return ""
			},
			want: []int{421, 421}, notOnFirst: []string{"DATA"}},
		{name: "every RCPT refused", rcpts: []string{"bob@hamburger.test"},
			answer: func(l string) string {
				if strings.HasPrefix(l, "RCPT") {
					return "550 5.1.1 no such user"
				}
				return ""
			},
			want: []int{550}, sawOnFirst: []string{"QUIT"}, notOnFirst: []string{"DATA"}},
		{name: "DATA refused", rcpts: []string{"bob@hamburger.test"},
			answer: func(l string) string {
				if l == "DATA" {
					return "554 5.3.0 no DATA today"
				}
				return ""
			},
			want: []int{554}, sawOnFirst: []string{"QUIT"}},
		{name: "DATA gets 421", rcpts: []string{"bob@hamburger.test"},
			answer: func(l string) string {
				if l == "DATA" {
					return "421 4.3.2 shutting down"
				}
				return ""
			},
			want: []int{250}, next: true},
		{name: "no reply after the final dot", rcpts: []string{"bob@hamburger.test"},
			answer: func(l string) string {
				if l == "." {
					return slow(time.Second)
				}
				return ""
			},
			want: []int{451}, reply: "it may arrive twice"},
	}
	dns := startDNS(t, "hamburger.test. MX 10 mx1.hamburger.test.\nhamburger.test. MX 20 mx2.hamburger.test.\n"+
		"mx1.hamburger.test. A 127.0.0.1\nmx2.hamburger.test. A 127.0.0.1\n")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ehlo := []string{"SIZE 100000"}
			if tc.pipelining {
				ehlo = append(ehlo, "PIPELINING")
			}
			first := startFake(t, &fakeMX{ehlo: ehlo, answer: tc.answer})
			second := startFake(t, &fakeMX{ehlo: ehlo})
			to := fastTimeouts()
			to.Command, to.DataEnd = 300*time.Millisecond, 300*time.Millisecond
			var ev events
			c := New(Config{Trace: ev.hook, Timeouts: to, Resolver: &mx.Resolver{Server: dns},
				Ports: map[string]string{"mx1.hamburger.test": portOf(first.addr), "mx2.hamburger.test": portOf(second.addr)}})
			res := deliverOnce(t, c, queue.Envelope{From: "alice@crepes.test", To: tc.rcpts}, testBody)
			for i, r := range res {
				if i >= len(tc.want) || r.Code != tc.want[i] {
					t.Errorf("results %+v, want codes %v\n%s", res, tc.want, ev.text())
					break
				}
			}
			if len(res) > 0 && !strings.Contains(res[0].Reply, tc.reply) {
				t.Errorf("first result %q, want it to say %q", res[0].Reply, tc.reply)
			}
			lines, _ := second.got()
			if got := len(lines) > 0; got != tc.next {
				t.Errorf("second exchanger contacted: %v, want %v\n%s", got, tc.next, ev.text())
			}
			firstLines, _ := first.got()
			for _, l := range tc.sawOnFirst {
				if !contains(firstLines, l) {
					t.Errorf("first exchanger was not sent %q: %q", l, firstLines)
				}
			}
			for _, l := range tc.notOnFirst {
				if contains(firstLines, l) {
					t.Errorf("first exchanger was sent %q: %q", l, firstLines)
				}
			}
		})
	}
}
