package scenario

import (
	"encoding/json"
	"net/netip"
	"sync"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	good := map[string]Scenario{
		"normal":               {Name: Normal},
		"DOWN":                 {Name: Down},
		"greylist":             {Name: Greylist, Delay: DefaultGreylist},
		"greylist 60":          {Name: Greylist, Delay: time.Minute},
		"greylist:60":          {Name: Greylist, Delay: time.Minute},
		"mailbox-full":         {Name: MailboxFull},
		"mailbox-full bob 552": {Name: MailboxFull, User: "bob", Code: 552},
		"unknown-user Bob":     {Name: UnknownUser, User: "bob"},
		"slow":                 {Name: Slow, Delay: DefaultSlow},
		"slow 250ms":           {Name: Slow, Delay: 250 * time.Millisecond},
		"slow 2":               {Name: Slow, Delay: 2 * time.Second},
		"reject-next 554":      {Name: RejectNext, Code: 554},
		"reject-next=451":      {Name: RejectNext, Code: 451},
	}
	for in, want := range good {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", in, got, err, want)
			continue
		}
		if again, err := Parse(got.String()); err != nil || again != got {
			t.Errorf("Parse(%q.String() = %q) = %+v, %v", in, got.String(), again, err)
		}
	}
	for _, bad := range []string{"", "explode", "down now", "greylist x", "reject-next", "reject-next 250", "slow forever", "unknown-user a b"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func code(d *Decision) int {
	if d == nil {
		return 250
	}
	return d.Reply.Code
}

func TestGreylistDeterministic(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	e := NewEngine("mx.hamburger.test")
	e.Now, e.Scale = clk.now, 60
	e.Set(Scenario{Name: Greylist, Delay: 300 * time.Second})
	steps := []struct {
		after    time.Duration
		from, to string
		want     int
	}{
		{0, "alice@crepes.test", "bob@hamburger.test", 451},               // first attempt
		{4 * time.Second, "alice@crepes.test", "bob@hamburger.test", 451}, // 4 s < 300 s / 60
		{0, "carol@crepes.test", "bob@hamburger.test", 451},               // another pair is new
		{time.Second, "alice@crepes.test", "BOB@hamburger.test", 250},     // 5 s = 300 s at scale 60
		{time.Hour, "alice@crepes.test", "bob@hamburger.test", 250},       // stays passed
	}
	for i, s := range steps {
		clk.add(s.after)
		if got := code(e.Rcpt(s.from, s.to)); got != s.want {
			t.Errorf("step %d (%s -> %s): %d, want %d", i, s.from, s.to, got, s.want)
		}
	}
	if d := e.Rcpt("x@y", "z@w"); d == nil || d.Reply.Enhanced != "4.7.1" {
		t.Errorf("greylist reply %+v, want 451 4.7.1", d)
	}
}

func TestScenarios(t *testing.T) {
	e := NewEngine("mx.hamburger.test")
	if e.Connect(netip.MustParseAddr("127.0.0.1")) != nil || e.Rcpt("a@b", "bob@h") != nil || e.Data("a@b", nil) != nil || e.Delay() != 0 {
		t.Fatal("normal scenario interferes")
	}
	e.Set(Scenario{Name: Down})
	if d := e.Connect(netip.Addr{}); d == nil || d.Reply.Code != 421 || d.Reply.Enhanced != "4.3.2" {
		t.Errorf("down: %+v", d)
	}
	e.Set(Scenario{Name: MailboxFull, User: "bob"})
	if code(e.Rcpt("a@b", "bob+lists@h")) != 452 || code(e.Rcpt("a@b", "alice@h")) != 250 {
		t.Errorf("mailbox-full bob: wrong users refused")
	}
	e.Set(Scenario{Name: MailboxFull, Code: 552})
	if d := e.Rcpt("a@b", "alice@h"); d == nil || d.Reply.Code != 552 || d.Reply.Enhanced != "5.2.2" {
		t.Errorf("mailbox-full 552: %+v", d)
	}
	e.Set(Scenario{Name: UnknownUser})
	if d := e.Rcpt("a@b", "bob@h"); d == nil || d.Reply.Code != 550 || d.Reply.Enhanced != "5.1.1" {
		t.Errorf("unknown-user: %+v", d)
	}
	e.Set(Scenario{Name: RejectNext, Code: 554})
	if d := e.Data("a@b", nil); d == nil || d.Reply.Code != 554 || d.Reply.Enhanced != "5.7.1" {
		t.Errorf("reject-next first: %+v", d)
	}
	if d := e.Data("a@b", nil); d != nil {
		t.Errorf("reject-next fired twice: %+v", d)
	}
	e.Set(Scenario{Name: Slow, Delay: time.Second})
	if e.Delay() != time.Second {
		t.Errorf("slow delay %v", e.Delay())
	}
}

func TestScenarioJSONDurations(t *testing.T) {
	in := Scenario{Name: Slow, Delay: 5 * time.Minute}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"name":"slow","delay":"5m0s","delay_seconds":300}` {
		t.Errorf("JSON = %s", b)
	}
	var out Scenario
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Errorf("round trip = %+v, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"name":"slow","delay_seconds":1.5}`), &out); err != nil || out.Delay != 1500*time.Millisecond {
		t.Errorf("seconds only = %+v, %v", out, err)
	}
}
