package relay

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/mx"
	"github.com/mailx-edu/mailx/proto/mx/mxtest"
	"github.com/mailx-edu/mailx/proto/testkit"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/queue"
	"github.com/mailx-edu/mailx/server/tlscert"
)

// fakeMX is a scripted SMTP server: it answers each command with what
// answer returns, and records what it was sent.
type fakeMX struct {
	addr     string
	greeting string
	ehlo     []string // EHLO reply lines after the first; nil: EHLO refused with 502
	answer   func(line string) string
	tls      *tls.Config

	mu    sync.Mutex
	lines []string // commands received
	data  []string // message text received (wire form)
}

func startFake(t *testing.T, f *fakeMX) *fakeMX {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr().String()
	if f.greeting == "" {
		f.greeting = "220 mx.fake.test ESMTP"
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); f.serve(c) }()
		}
	}()
	return f
}

func (f *fakeMX) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
	say(f.greeting)
	if !strings.HasPrefix(f.greeting, "220") {
		return
	}
	inData := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		f.mu.Lock()
		if inData {
			if line != "." {
				f.data = append(f.data, line)
				f.mu.Unlock()
				continue
			}
			inData = false
		}
		f.lines = append(f.lines, line)
		f.mu.Unlock()
		verb, _ := strings.CutPrefix(strings.ToUpper(strings.Fields(line + " x")[0]), "")
		var reply string
		if f.answer != nil {
			reply = f.answer(line)
		}
		if reply == "" {
			switch verb {
			case "EHLO":
				if f.ehlo == nil {
					reply = "502 5.5.1 EHLO not implemented"
					break
				}
				lines := append([]string{"mx.fake.test hello"}, f.ehlo...)
				for i, l := range lines {
					sep := "-"
					if i == len(lines)-1 {
						sep = " "
					}
					w.WriteString("250" + sep + l + "\r\n")
				}
				w.Flush()
				continue
			case "HELO":
				reply = "250 mx.fake.test"
			case "STARTTLS":
				say("220 2.0.0 go ahead")
				tc := tls.Server(c, f.tls)
				if tc.Handshake() != nil {
					return
				}
				c = tc
				r, w = bufio.NewReader(tc), bufio.NewWriter(tc)
				say = func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
				continue
			case "DATA":
				reply = "354 go ahead"
				inData = true
			case ".":
				reply = "250 2.0.0 Ok: queued as FAKE1"
			case "QUIT":
				say("221 2.0.0 bye")
				return
			default:
				reply = "250 2.0.0 Ok"
			}
		}
		if strings.HasPrefix(reply, "354") {
			inData = true
		}
		say(reply)
		if strings.HasPrefix(reply, "421") {
			return
		}
	}
}

func (f *fakeMX) got() (lines, data []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...), append([]string(nil), f.data...)
}

// capture is a Deliverer that hands the first call's results to a channel.
type capture struct {
	d    queue.Deliverer
	once sync.Once
	ch   chan []queue.Result
}

func (c *capture) Deliver(ctx context.Context, m *queue.Message, r []queue.Recipient) []queue.Result {
	res := c.d.Deliver(ctx, m, r)
	c.once.Do(func() { c.ch <- res })
	return res
}

const testBody = "From: alice@crepes.test\r\nTo: bob@hamburger.test\r\nSubject: hi\r\n\r\nHello Bob.\r\n.hidden dot\r\n"

// deliverOnce queues one message and returns the results of the first
// delivery attempt through d.
func deliverOnce(t *testing.T, d queue.Deliverer, env queue.Envelope, body string) []queue.Result {
	t.Helper()
	c := &capture{d: d, ch: make(chan []queue.Result, 1)}
	q, err := queue.Open(queue.Options{Data: t.TempDir(), Remote: c, ScanEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	w, err := q.Begin()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	if env.Received.IsZero() {
		env.Received = time.Now()
	}
	if _, err := w.Commit(env); err != nil {
		t.Fatal(err)
	}
	q.Start(context.Background())
	select {
	case res := <-c.ch:
		return res
	case <-time.After(20 * time.Second):
		t.Fatal("no delivery attempt within 20s")
	}
	return nil
}

type events struct {
	mu sync.Mutex
	ev []transcript.Event
}

func (e *events) hook(ev transcript.Event) { e.mu.Lock(); e.ev = append(e.ev, ev); e.mu.Unlock() }

func (e *events) text() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var b strings.Builder
	for _, ev := range e.ev {
		fmt.Fprintf(&b, "[%s] %s: %s\n", ev.Session, ev.Dir, ev.Line)
	}
	return b.String()
}

func fastTimeouts() Timeouts {
	return Timeouts{Connect: 2 * time.Second, Greeting: 2 * time.Second, Command: 2 * time.Second,
		DataInit: 2 * time.Second, Block: 2 * time.Second, DataEnd: 2 * time.Second}
}

func TestPipelinedPerRecipientResults(t *testing.T) {
	f := startFake(t, &fakeMX{
		ehlo: []string{"PIPELINING", "SIZE 100000", "8BITMIME"},
		answer: func(l string) string {
			if strings.Contains(l, "nobody@") {
				return "550 5.1.1 <nobody@hamburger.test>: no such user"
			}
			if strings.Contains(l, "later@") {
				return "451 4.7.1 greylisted, try again later"
			}
			return ""
		},
	})
	var ev events
	c := New(Config{Hostname: "mx.crepes.test", Routes: map[string]string{"hamburger.test": f.addr}, Trace: ev.hook, Timeouts: fastTimeouts()})
	res := deliverOnce(t, c, queue.Envelope{From: "alice@crepes.test", To: []string{"bob@hamburger.test", "nobody@hamburger.test", "later@hamburger.test"}, BodyType: "8BITMIME"}, testBody)
	want := []int{250, 550, 451}
	for i, r := range res {
		if r.Code != want[i] {
			t.Errorf("recipient %d: %d %q, want %d", i, r.Code, r.Reply, want[i])
		}
	}
	if !strings.Contains(res[0].Reply, "queued as FAKE1") || !strings.Contains(res[1].Reply, "5.1.1") {
		t.Errorf("replies not kept: %+v", res)
	}
	lines, data := f.got()
	if lines[1] != fmt.Sprintf("MAIL FROM:<alice@crepes.test> SIZE=%d BODY=8BITMIME", len(testBody)) {
		t.Errorf("MAIL line = %q", lines[1])
	}
	if !contains(data, "..hidden dot") || !contains(data, "Hello Bob.") {
		t.Errorf("message text not dot-stuffed: %q", data)
	}
	tr := ev.text()
	for _, want := range []string{"static route: mail for hamburger.test", "PIPELINING: sending MAIL, 3 RCPT and DATA at once",
		"C: RCPT TO:<later@hamburger.test>", "S: 451 4.7.1 greylisted", "as queue id FAKE1", "C: ..hidden dot", "C: QUIT"} {
		if !strings.Contains(tr, want) {
			t.Errorf("trace lacks %q:\n%s", want, tr)
		}
	}
}

func TestSequentialAndHELOFallback(t *testing.T) {
	f := startFake(t, &fakeMX{ehlo: nil})
	c := New(Config{Hostname: "mx.crepes.test", Smarthost: f.addr, Timeouts: fastTimeouts()})
	res := deliverOnce(t, c, queue.Envelope{From: "", To: []string{"bob@far.test"}}, testBody)
	if res[0].Code != 250 {
		t.Fatalf("result %+v", res[0])
	}
	lines, _ := f.got()
	want := []string{"EHLO mx.crepes.test", "HELO mx.crepes.test", "MAIL FROM:<>", "RCPT TO:<bob@far.test>", "DATA", ".", "QUIT"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("commands = %q\nwant %q", lines, want)
	}
}

func TestSizeLimitRespected(t *testing.T) {
	f := startFake(t, &fakeMX{ehlo: []string{"SIZE 10"}})
	c := New(Config{Routes: map[string]string{"hamburger.test": f.addr}, Timeouts: fastTimeouts()})
	res := deliverOnce(t, c, queue.Envelope{From: "a@crepes.test", To: []string{"bob@hamburger.test"}}, testBody)
	if res[0].Code != 552 || !strings.Contains(res[0].Reply, "5.3.4") {
		t.Errorf("result %+v, want 552 5.3.4", res[0])
	}
	if lines, _ := f.got(); len(lines) != 2 || lines[1] != "QUIT" {
		t.Errorf("commands = %q, want EHLO then QUIT only", lines)
	}
}

func TestSMTPUTF8Needed(t *testing.T) {
	f := startFake(t, &fakeMX{ehlo: []string{"8BITMIME"}})
	c := New(Config{Routes: map[string]string{"bücher.test": f.addr}, Timeouts: fastTimeouts()})
	res := deliverOnce(t, c, queue.Envelope{From: "a@crepes.test", To: []string{"jürgen@bücher.test", "info@bücher.test"}, SMTPUTF8: true}, testBody)
	if res[0].Code != 553 || res[1].Code != 250 {
		t.Errorf("results %+v, want 553 for the UTF-8 local part and 250 for the other", res)
	}
	if lines, _ := f.got(); !contains(lines, "RCPT TO:<info@xn--bcher-kva.test>") {
		t.Errorf("IDN domain not sent as A-labels: %q", lines)
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func TestOpportunisticTLS(t *testing.T) {
	cert, err := tlscert.LoadOrCreate(t.TempDir(), []string{"mx.hamburger.test"})
	if err != nil {
		t.Fatal(err)
	}
	f := startFake(t, &fakeMX{ehlo: []string{"STARTTLS", "PIPELINING"}, tls: &tls.Config{Certificates: []tls.Certificate{cert.Cert}}})
	var ev events
	c := New(Config{Hostname: "mx.crepes.test", Trace: ev.hook, Timeouts: fastTimeouts(),
		Resolver: &mx.Resolver{Server: startDNS(t, "hamburger.test. MX 10 mx.hamburger.test.\nmx.hamburger.test. A 127.0.0.1\n")},
		Ports:    map[string]string{"mx.hamburger.test": portOf(f.addr)}})
	res := deliverOnce(t, c, queue.Envelope{From: "a@crepes.test", To: []string{"bob@hamburger.test"}}, testBody)
	if res[0].Code != 250 {
		t.Fatalf("result %+v\n%s", res[0], ev.text())
	}
	tr := ev.text()
	if !strings.Contains(tr, "tls: TLS 1.3") || !strings.Contains(tr, "certificate NOT verified") {
		t.Errorf("trace does not record TLS and the unverified certificate:\n%s", tr)
	}
	if lines, _ := f.got(); strings.Count(strings.Join(lines, "|"), "EHLO") != 2 {
		t.Errorf("EHLO not repeated after STARTTLS: %q", lines)
	}
}

func startDNS(t *testing.T, zone string) string {
	return mxtest.Start(t, mxtest.Options{Zone: "$TTL 300\n" + zone}).Addr
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

func TestMXOrderAndFallback(t *testing.T) {
	good := startFake(t, &fakeMX{ehlo: []string{"PIPELINING"}})
	busy := startFake(t, &fakeMX{greeting: "421 4.3.2 mx1 is busy, try later"})
	dead := testkit.FreeAddr(t) // a port that refuses connections
	dns := startDNS(t, "hamburger.test. MX 10 mx0.hamburger.test.\nhamburger.test. MX 20 mx1.hamburger.test.\nhamburger.test. MX 30 mx2.hamburger.test.\n"+
		"mx0.hamburger.test. A 127.0.0.1\nmx1.hamburger.test. A 127.0.0.1\nmx2.hamburger.test. A 127.0.0.1\n")
	var ev events
	c := New(Config{Trace: ev.hook, Timeouts: fastTimeouts(), Resolver: &mx.Resolver{Server: dns}, Rand: rand.New(rand.NewPCG(1, 2)),
		Ports: map[string]string{"mx0.hamburger.test": portOf(dead), "mx1.hamburger.test": portOf(busy.addr), "mx2.hamburger.test": portOf(good.addr)}})
	res := deliverOnce(t, c, queue.Envelope{From: "a@crepes.test", To: []string{"bob@hamburger.test"}}, testBody)
	if res[0].Code != 250 {
		t.Fatalf("result %+v\n%s", res[0], ev.text())
	}
	tr := ev.text()
	i0, i1, i2 := strings.Index(tr, "connecting to mx0"), strings.Index(tr, "connecting to mx1"), strings.Index(tr, "connecting to mx2")
	if i0 < 0 || i1 < i0 || i2 < i1 {
		t.Errorf("exchangers not tried in preference order:\n%s", tr)
	}

	// Every exchanger down: a temporary failure naming the last one.
	c = New(Config{Timeouts: fastTimeouts(), Resolver: &mx.Resolver{Server: dns},
		Ports: map[string]string{"mx0.hamburger.test": portOf(dead), "mx1.hamburger.test": portOf(busy.addr), "mx2.hamburger.test": portOf(dead)}})
	res = deliverOnce(t, c, queue.Envelope{From: "a@crepes.test", To: []string{"bob@hamburger.test"}}, testBody)
	if res[0].Code != 451 || !strings.Contains(res[0].Reply, "cannot connect") || !strings.Contains(res[0].Reply, "2 other exchangers") {
		t.Errorf("result %+v, want 451 cannot connect ... 2 other exchangers", res[0])
	}
}

func TestDNSOutcomes(t *testing.T) {
	dns := startDNS(t, "nomail.test. MX 0 .\nbare.test. A 127.0.0.1\n")
	cases := []struct {
		domain string
		code   int
		enh    string
	}{
		{"nomail.test", 556, "5.1.10"},
		{"missing.test", 550, "5.1.2"},
	}
	for _, tc := range cases {
		t.Run(tc.domain, func(t *testing.T) {
			c := New(Config{Timeouts: fastTimeouts(), Resolver: &mx.Resolver{Server: dns, Timeout: time.Second}})
			res := deliverOnce(t, c, queue.Envelope{From: "a@crepes.test", To: []string{"x@" + tc.domain}}, testBody)
			if res[0].Code != tc.code || !strings.Contains(res[0].Reply, tc.enh) {
				t.Errorf("result %+v, want %d %s", res[0], tc.code, tc.enh)
			}
		})
	}
	t.Run("dns down", func(t *testing.T) {
		c := New(Config{Timeouts: fastTimeouts(), Resolver: &mx.Resolver{Server: mxtest.Blackhole(t), Timeout: 200 * time.Millisecond, Attempts: 1}})
		res := deliverOnce(t, c, queue.Envelope{From: "a@crepes.test", To: []string{"x@hamburger.test"}}, testBody)
		if res[0].Code != 451 || !strings.Contains(res[0].Reply, "4.4.3") {
			t.Errorf("result %+v, want 451 4.4.3", res[0])
		}
	})
}

func TestServerSilentTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() }) // accept and say nothing
		}
	}()
	to := fastTimeouts()
	to.Greeting = 300 * time.Millisecond
	c := New(Config{Routes: map[string]string{"hamburger.test": l.Addr().String()}, Timeouts: to})
	start := time.Now()
	res := deliverOnce(t, c, queue.Envelope{From: "a@crepes.test", To: []string{"bob@hamburger.test"}}, testBody)
	if res[0].Code != 451 || !strings.Contains(res[0].Reply, "4.4.2") || !strings.Contains(res[0].Reply, "timed out") {
		t.Errorf("result %+v, want 451 4.4.2 ... timed out", res[0])
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("greeting timeout not honoured: took %v", time.Since(start))
	}
}

func TestHopsLinkBothEnds(t *testing.T) {
	hops := NewHops()
	var recv events
	hook := hops.Wrap(recv.hook)
	hops.register("127.0.0.1:5000", "s7", "crepes.test")
	hook(transcript.Event{Session: "s12", Dir: transcript.Meta, Line: "connect from 127.0.0.1:5000"})
	hook(transcript.Event{Session: "s12", Dir: transcript.Client, Line: "EHLO mx.crepes.test"})
	hook(transcript.Event{Session: "s13", Dir: transcript.Meta, Line: "connect from 127.0.0.1:6000"})
	hook(transcript.Event{Session: "s13", Dir: transcript.Client, Line: "EHLO other"})
	got := recv.text()
	if !strings.Contains(got, "[s12] #: relay hop h1: this session receives relay session s7 of crepes.test") || strings.Count(got, "relay hop") != 1 {
		t.Errorf("hop events:\n%s", got)
	}
}
