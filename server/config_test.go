package server

import (
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/server/queue"
	"github.com/mailx-edu/mailx/server/smtp"
)

var smtpLimitsForTests = smtp.Limits{AuthFailDelay: time.Millisecond}

func TestExampleConfigParses(t *testing.T) {
	var c Config
	if err := ParseConfig(strings.NewReader(ExampleConfig), "mailx.conf", &c); err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Domains, ",") != "mailx.test" || c.SMTPAddr != "127.0.0.1:2525" || c.SMTPSAddr != "off" ||
		c.Limits.MessageSize != 10<<20 || c.Limits.Idle != 5*time.Minute || c.TimeScale != 1 || c.NoTranscripts ||
		c.POP3Timeout != 10*time.Minute || c.IMAPAutologout != 30*time.Minute || c.RetryMin != queue.DefaultSchedule.Min ||
		c.RetryMax != queue.DefaultSchedule.Max || c.Lifetime != queue.DefaultSchedule.Lifetime || c.DelayWarning != 0 {
		t.Errorf("example config gave %+v", c)
	}
}

// TestExampleConfigHasEveryKey keeps --example-config complete: every key
// the parser accepts is written out, in its section.
func TestExampleConfigHasEveryKey(t *testing.T) {
	inSection := map[string]map[string]bool{}
	section := ""
	for _, line := range strings.Split(ExampleConfig, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(line, "[]")
			inSection[section] = map[string]bool{}
			continue
		}
		if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			inSection[section][strings.TrimSpace(k)] = true
		}
	}
	for sec, keys := range sections {
		for k := range keys {
			if !inSection[sec][k] {
				t.Errorf("--example-config lacks %q in [%s]", k, sec)
			}
		}
	}
	for sec := range mapSections {
		if inSection[sec] == nil {
			t.Errorf("--example-config lacks the section [%s]", sec)
		}
	}
}

func TestParseConfig(t *testing.T) {
	in := `
[server]
domains = crepes.test, hamburger.test   # two domains
smtp = 127.0.0.1:2626
relay_networks = 10.0.0.0/8, 192.0.2.1
public = yes
[limits]
max_size = 512K
[users]
carol = secret
dave = $2a$04$abcdefghijklmnopqrstuu
[aliases]
Info = carol
[routes]
hamburger.test = 127.0.0.1:2526
[scenarios]
hamburger.test = greylist
`
	var c Config
	if err := ParseConfig(strings.NewReader(in), "x.conf", &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Domains) != 2 || c.SMTPAddr != "127.0.0.1:2626" || len(c.RelayNets) != 2 || c.RelayNets[1].String() != "192.0.2.1/32" ||
		!c.AllowPublic || c.Limits.MessageSize != 512<<10 || len(c.Users) != 1 || len(c.UserHashes) != 1 ||
		c.Aliases["info"] != "carol" || c.Routes["hamburger.test"] != "127.0.0.1:2526" || c.Scenarios["hamburger.test"] != "greylist" {
		t.Errorf("parsed %+v", c)
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"smtp = 1.2.3.4:25", `x.conf:1: "smtp" is outside any section`},
		{"[server]\nsmpt = 127.0.0.1:25", `x.conf:2: unknown key "smpt" in [server]; did you mean "smtp"?`},
		{"[servr]", "x.conf:1: unknown section [servr]"},
		{"[server\n", "missing its ]"},
		{"[server]\nsmtp 127.0.0.1:25", "expected key = value"},
		{"[server]\nsmtp = localhost", `x.conf:2: smtp: "localhost" is not HOST:PORT`},
		{"[limits]\nmax_size = big", `max_size: "big" is not a size`},
		{"[limits]\nidle_timeout = 5", `is not a duration`},
		{"[server]\npublic = maybe", `"maybe" is not yes or no`},
		{"[server]\ndomains = a..b", "is not a domain name"},
		{"[users]\n../x = pw", "user name"},
		{"[server]\nrelay_networks = everyone", "is not a network"},
	}
	for _, tc := range tests {
		var c Config
		err := ParseConfig(strings.NewReader(tc.in), "x.conf", &c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseConfig(%q) = %v, want error containing %q", tc.in, err, tc.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1000": 1000, "10M": 10 << 20, "10MiB": 10 << 20, "512k": 512 << 10, "1G": 1 << 30, "2 MB": 2 << 20} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-1", "x", "10T"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) succeeded", bad)
		}
	}
}
