package server

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/server/accounts"
)

// ExampleConfig is a complete config file with every key, each commented;
// `mailx serve --help` points to it and the tests parse it.
const ExampleConfig = `# mailx.conf: settings for mailx serve. Put it in the data directory
# (it is read from there) or pass --config FILE. Flags override it.
# Format: [section] headers, then "key = value" lines; "#" starts a comment.
# Lists are comma separated. Addresses are HOST:PORT, or "off".

[server]
domains = mailx.test             # mail domains delivered here; the first is primary
hostname = mailx.test            # name in greetings and Received: (default: first domain)
smtp = 127.0.0.1:2525            # SMTP, for other servers and for practice
submission = 127.0.0.1:2587      # submission for mail clients: AUTH required
smtps = off                      # submission over implicit TLS (RFC 8314), e.g. 127.0.0.1:2465
pop3 = 127.0.0.1:1100
imap = 127.0.0.1:1430
pop3s = off
imaps = off
web = 127.0.0.1:8080             # web mail (mailx web) for these domains; off: none
public = no                      # yes: allow non-loopback addresses above (a classroom server)
vrfy = no                        # yes: VRFY tells whether a user exists (default 252)
relay_networks =                 # client networks that may relay without AUTH, e.g. 10.0.0.0/8
trusted_networks =               # a classroom's networks: not blocked as a whole after 10 failed logins; may use XCLIENT
transcripts = yes                # keep every session in DATA/transcripts
welcome = yes                    # a welcome message in each new account's INBOX
transcripts_max_size = 100M      # oldest transcripts removed beyond this; "unlimited" keeps all
log_max_size = 16M               # log/mailx.log becomes mailx.log.1 at this size; "unlimited" never rotates
transcripts_max_age = 14d        # transcripts older than this removed; "unlimited" keeps all

[limits]
max_size = 10M                   # largest message (SIZE); K, M, G suffixes are powers of 1024
max_recipients = 100             # RCPT TO per message (RFC 5321 §4.5.3.1.8)
command_line = 2048              # longest command line in octets
text_line = 1000                 # longest line of message text (RFC 5321 §4.5.3.1.6)
max_errors = 20                  # failed commands before 421
idle_timeout = 5m                # wait for a command (RFC 5321 §4.5.3.2.7)
data_timeout = 3m                # wait for each line of message text (§4.5.3.2.5)
max_sessions = 1000              # concurrent sessions of every protocol together
max_sessions_per_client = 100    # concurrent sessions of one protocol from one address
auth_fail_delay = 1s             # added per recent failed login before answering
min_free_disk = 50M              # refuse mail (452 4.3.1) below this much free space
pop3_timeout = 10m               # close an idle POP3 session (RFC 1939 §3: at least 10 min)
imap_autologout = 30m            # log out an idle IMAP client (RFC 9051 §5.4: at least 30 min)

[users]
# name = password, or name = a bcrypt hash ($2a$...). Users here replace the
# practice accounts and the accounts file (mailx serve user add).
# carol = lab-password

[aliases]
# local part = user
# info = bob

[routes]
# domain = HOST:PORT, sends that domain's mail there instead of asking DNS
# hamburger.test = 127.0.0.1:2526

[relay]
smarthost =                      # HOST:PORT that takes all remote mail
time_scale = 1                   # 60: queue minutes pass in seconds, to watch retries
dns =                            # HOST:PORT of the DNS server for MX lookups (default: the system's)
retry_min = 5m                   # first retry after a temporary failure; doubles each time
retry_max = 1h6m40s              # longest wait between retries (Postfix's 4000s)
lifetime = 120h                  # give up and bounce after this long in the queue (5 days)
delay_warning = 0                # e.g. 4h: tell the sender once the message waited that long; 0 is off

[spam]
checks =                         # on or off: check incoming mail (SPF, DKIM, DMARC, blocklists, score); default on with --lab or dnsbl
dkim_sign = yes                  # sign outgoing mail with DKIM (keys in DATA/dkim; see mailx serve dkim show)
dnsbl =                          # blocklist zones, ZONE[=WEIGHT], e.g. zen.spamhaus.org=4
dnsbl_action = reject            # reject: 554 at RCPT (Postfix's reject_rbl_client); score: add the weight
spam_threshold = 5.0             # score from which mail goes to the Junk folder
spam_reject = 15.0               # score from which mail is refused (550 5.7.1); -1: never

[scenarios]
# domain = down | greylist | mailbox-full | unknown-user | slow | reject-next CODE | spoof | forward ADDRESS | list-footer | open-relay
`

// LoadConfigFile reads a config file into c. Errors name the file and line,
// say what is wrong and what to write instead.
func LoadConfigFile(path string, c *Config) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	return ParseConfig(f, path, c)
}

type setter func(c *Config, v string) error

// sections are the config file's sections with fixed keys, each key with
// the setter that writes it into Config: every key mailx.conf knows is in
// this one table (ExampleConfig shows them, and a test checks it does).
var sections = map[string]map[string]setter{
	"server": {
		"domains": func(c *Config, v string) error {
			c.Domains = nil
			for _, d := range list(v) {
				if _, err := accounts.CanonicalDomain(d); err != nil {
					return fmt.Errorf("%q is not a domain name such as mailx.test", d)
				}
				c.Domains = append(c.Domains, d)
			}
			if len(c.Domains) == 0 {
				return fmt.Errorf("give at least one domain, e.g. domains = mailx.test")
			}
			return nil
		},
		"hostname":       func(c *Config, v string) error { c.Hostname = v; return nil },
		"smtp":           addr(func(c *Config) *string { return &c.SMTPAddr }),
		"submission":     addr(func(c *Config) *string { return &c.SubmissionAddr }),
		"smtps":          addr(func(c *Config) *string { return &c.SMTPSAddr }),
		"pop3":           addr(func(c *Config) *string { return &c.POP3Addr }),
		"imap":           addr(func(c *Config) *string { return &c.IMAPAddr }),
		"pop3s":          addr(func(c *Config) *string { return &c.POP3SAddr }),
		"imaps":          addr(func(c *Config) *string { return &c.IMAPSAddr }),
		"web":            addr(func(c *Config) *string { return &c.WebAddr }),
		"public":         boolean(func(c *Config) *bool { return &c.AllowPublic }),
		"vrfy":           boolean(func(c *Config) *bool { return &c.VRFY }),
		"welcome":        boolean(func(c *Config) *bool { return &c.Welcome }),
		"relay_networks": func(c *Config, v string) error { return setNets(c, v) },
		"transcripts":    negated(func(c *Config) *bool { return &c.NoTranscripts }),
		"trusted_networks": func(c *Config, v string) (err error) {
			c.TrustedNets, err = ParseNets(v)
			return err
		},
		"log_max_size": func(c *Config, v string) (err error) {
			c.LogMaxSize, err = ParseLimitSize(v)
			return err
		},
		"transcripts_max_size": func(c *Config, v string) (err error) {
			c.TranscriptsMaxSize, err = ParseLimitSize(v)
			return err
		},
		"transcripts_max_age": func(c *Config, v string) (err error) {
			c.TranscriptsMaxAge, err = ParseLimitAge(v)
			return err
		},
	},
	"limits": {
		"max_size":                size(func(c *Config) *int64 { return &c.Limits.MessageSize }),
		"max_recipients":          integer(func(c *Config) *int { return &c.Limits.Recipients }),
		"command_line":            integer(func(c *Config) *int { return &c.Limits.CommandLine }),
		"text_line":               integer(func(c *Config) *int { return &c.Limits.TextLine }),
		"max_errors":              integer(func(c *Config) *int { return &c.Limits.Errors }),
		"max_sessions":            integer(func(c *Config) *int { return &c.Limits.Sessions }),
		"max_sessions_per_client": integer(func(c *Config) *int { return &c.Limits.SessionsPerClient }),
		"idle_timeout":            duration(func(c *Config) *time.Duration { return &c.Limits.Idle }),
		"data_timeout":            duration(func(c *Config) *time.Duration { return &c.Limits.Data }),
		"pop3_timeout":            duration(func(c *Config) *time.Duration { return &c.POP3Timeout }),
		"imap_autologout":         duration(func(c *Config) *time.Duration { return &c.IMAPAutologout }),
		"auth_fail_delay":         duration(func(c *Config) *time.Duration { return &c.Limits.AuthFailDelay }),
		"min_free_disk": func(c *Config, v string) error {
			n, err := ParseSize(v)
			c.Limits.MinFreeDisk = uint64(n)
			return err
		},
	},
	"relay": {
		"smarthost": func(c *Config, v string) error { c.Smarthost = v; return nil },
		"dns":       func(c *Config, v string) error { c.DNSServer = v; return nil },
		"time_scale": func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f <= 0 {
				return fmt.Errorf("%q is not a positive number such as 60", v)
			}
			c.TimeScale = f
			return nil
		},
		// The retry schedule (relay_ext.go).
		"retry_min":     duration(func(c *Config) *time.Duration { return &c.RetryMin }),
		"retry_max":     duration(func(c *Config) *time.Duration { return &c.RetryMax }),
		"lifetime":      duration(func(c *Config) *time.Duration { return &c.Lifetime }),
		"delay_warning": duration(func(c *Config) *time.Duration { return &c.DelayWarning }),
	},
	// Sender authentication and spam (spam_ext.go, spam_config.go).
	"spam": {
		"checks": func(c *Config, v string) error {
			switch strings.ToLower(v) {
			case "on", "yes", "true", "off", "no", "false", "":
				c.Spam.Checks = strings.ToLower(v)
				return nil
			}
			return fmt.Errorf("%q: write on or off", v)
		},
		"dkim_sign": negated(func(c *Config) *bool { return &c.Spam.NoSign }),
		"dnsbl": func(c *Config, v string) error {
			c.Spam.DNSBL = nil
			for _, z := range list(v) {
				zone, err := ParseDNSBL(z)
				if err != nil {
					return err
				}
				c.Spam.DNSBL = append(c.Spam.DNSBL, zone)
			}
			return nil
		},
		"dnsbl_action": func(c *Config, v string) error {
			v = strings.ToLower(strings.TrimSpace(v))
			if v != "reject" && v != "score" {
				return fmt.Errorf("%q: write reject or score", v)
			}
			c.Spam.DNSBLAction = v
			return nil
		},
		"spam_threshold": number(func(c *Config) *float64 { return &c.Spam.Threshold }),
		"spam_reject":    number(func(c *Config) *float64 { return &c.Spam.Reject }),
	},
}

// Sections whose keys are free (a user, an alias, a domain).
var mapSections = map[string]func(c *Config, k, v string) error{
	"users": func(c *Config, k, v string) error {
		k = strings.ToLower(k)
		if err := accounts.ValidName(k); err != nil {
			return err
		}
		if strings.HasPrefix(v, "$2") {
			if c.UserHashes == nil {
				c.UserHashes = map[string][]byte{}
			}
			c.UserHashes[k] = []byte(v)
			return nil
		}
		if v == "" {
			return fmt.Errorf("user %s has no password: write %s = PASSWORD", k, k)
		}
		c.Users = append(c.Users, accounts.Credential{Name: k, Password: v})
		return nil
	},
	"aliases": func(c *Config, k, v string) error {
		if c.Aliases == nil {
			c.Aliases = map[string]string{}
		}
		c.Aliases[strings.ToLower(k)] = strings.ToLower(v)
		return nil
	},
	"routes": func(c *Config, k, v string) error {
		if _, err := validAddr(v); err != nil {
			return err
		}
		if c.Routes == nil {
			c.Routes = map[string]string{}
		}
		c.Routes[strings.ToLower(k)] = v
		return nil
	},
	"scenarios": func(c *Config, k, v string) error {
		if c.Scenarios == nil {
			c.Scenarios = map[string]string{}
		}
		c.Scenarios[strings.ToLower(k)] = v
		return nil
	},
}

// ParseConfig reads the config format from r (name is used in errors).
func ParseConfig(r io.Reader, name string, c *Config) error {
	sc := bufio.NewScanner(r)
	section := ""
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("%s:%d: %s", name, n, fmt.Sprintf(format, args...))
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				return fail("section header %q is missing its ]", line)
			}
			section = strings.ToLower(strings.TrimSpace(line[1 : len(line)-1]))
			if _, ok := sections[section]; !ok && mapSections[section] == nil {
				return fail("unknown section [%s]; the sections are %s", section, strings.Join(sectionNames(), ", "))
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return fail("expected key = value, got %q", line)
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if section == "" {
			return fail("%q is outside any section; start with a header such as [server]", k)
		}
		if ms := mapSections[section]; ms != nil {
			if err := ms(c, k, v); err != nil {
				return fail("%v", err)
			}
			continue
		}
		set, ok := sections[section][k]
		if !ok {
			msg := fmt.Sprintf("unknown key %q in [%s]", k, section)
			if s := suggest(k, section); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else {
				msg += "; the keys are " + strings.Join(keyNames(section), ", ")
			}
			return fail("%s", msg)
		}
		if err := set(c, v); err != nil {
			return fail("%s: %v", k, err)
		}
	}
	return sc.Err()
}

func sectionNames() []string {
	var out []string
	for s := range sections {
		out = append(out, "["+s+"]")
	}
	for s := range mapSections {
		out = append(out, "["+s+"]")
	}
	slices.Sort(out)
	return out
}

func keyNames(section string) []string {
	var out []string
	for k := range sections[section] {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// suggest returns the key of section closest to k, if it is close.
func suggest(k, section string) string {
	best, bestD := "", 3
	for _, cand := range keyNames(section) {
		if d := editDistance(k, cand); d < bestD {
			best, bestD = cand, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func list(v string) []string {
	var out []string
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func addr(field func(*Config) *string) setter {
	return func(c *Config, v string) error {
		if !off(v) {
			if _, err := validAddr(v); err != nil {
				return err
			}
		}
		*field(c) = v
		if v == "" {
			*field(c) = "off"
		}
		return nil
	}
}

func boolean(field func(*Config) *bool) setter {
	return func(c *Config, v string) error {
		switch strings.ToLower(v) {
		case "yes", "true", "on", "1":
			*field(c) = true
		case "no", "false", "off", "0":
			*field(c) = false
		default:
			return fmt.Errorf("%q is not yes or no", v)
		}
		return nil
	}
}

// negated sets a "no" field from a yes-or-no key that says the opposite
// (transcripts = yes clears NoTranscripts).
func negated(field func(*Config) *bool) setter {
	return func(c *Config, v string) error {
		var on bool
		if err := boolean(func(*Config) *bool { return &on })(c, v); err != nil {
			return err
		}
		*field(c) = !on
		return nil
	}
}

func duration(field func(*Config) *time.Duration) setter {
	return func(c *Config, v string) (err error) {
		*field(c), err = parseDuration(v)
		return err
	}
}

func number(field func(*Config) *float64) setter {
	return func(c *Config, v string) error {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number such as 5.0", v)
		}
		*field(c) = f
		return nil
	}
}

func integer(field func(*Config) *int) setter {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive whole number", v)
		}
		*field(c) = n
		return nil
	}
}

func size(field func(*Config) *int64) setter {
	return func(c *Config, v string) error {
		n, err := ParseSize(v)
		*field(c) = n
		return err
	}
}

// ParseSize reads an octet count with an optional K, M or G suffix (powers
// of 1024; "KiB", "MB" and friends are read the same way): "10M" is 10485760.
func ParseSize(v string) (int64, error) {
	s := strings.ToUpper(strings.TrimSpace(v))
	s = strings.TrimSuffix(strings.TrimSuffix(s, "B"), "I")
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size such as 10485760, 512K or 10M", v)
	}
	return n * mult, nil
}

func setNets(c *Config, v string) error {
	c.RelayNets = nil
	for _, f := range list(v) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return fmt.Errorf("%q is not a network such as 192.0.2.0/24 or an address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		c.RelayNets = append(c.RelayNets, p.Masked())
	}
	return nil
}
