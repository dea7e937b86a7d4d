package server

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/proto/mx"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/accounts"
	"github.com/mailx-edu/mailx/server/relay"
	"github.com/mailx-edu/mailx/server/smtp"
)

// Default listen addresses: the classic ports plus 2000 (SMTP, submission)
// or 1000 (POP3, IMAP) or 2000 again (the implicit-TLS ones), so that no
// administrator rights are needed and they never clash with a real server.
const (
	DefaultDomain         = "mailx.test"
	DefaultSMTPAddr       = "127.0.0.1:2525"
	DefaultSubmissionAddr = "127.0.0.1:2587"
	DefaultPOP3Addr       = "127.0.0.1:1100"
	DefaultIMAPAddr       = "127.0.0.1:1430"
)

// Config is everything `mailx serve` can be told, by flags or by the config
// file. Zero values mean the defaults; an address "" or "off" is not started.
type Config struct {
	// Domains are the mail domains delivered here; the first is the primary.
	Domains []string
	// Hostname is the server's name in greetings and Received: fields;
	// default the primary domain.
	Hostname string
	// Data is the data directory (required).
	Data string

	// Listen addresses. Tests use "127.0.0.1:0" and read Addrs.
	SMTPAddr       string // default 127.0.0.1:2525
	SubmissionAddr string // default 127.0.0.1:2587; AUTH required
	SMTPSAddr      string // implicit TLS submission (RFC 8314); default off
	POP3Addr       string // default 127.0.0.1:1100 (when POP3 is built in)
	IMAPAddr       string // default 127.0.0.1:1430 (when IMAP is built in)
	POP3SAddr      string // default off
	IMAPSAddr      string // default off
	WebAddr        string // web mail (mta_web.go): "auto" (mailx serve's default), HOST:PORT, "" or "off"
	// POP3Timeout and IMAPAutologout close idle access sessions; defaults
	// 10 and 30 minutes, the minimums of RFC 1939 §3 and RFC 9051 §5.4.
	POP3Timeout, IMAPAutologout time.Duration
	// AllowPublic permits non-loopback listen addresses.
	AllowPublic bool

	// Users replace the practice accounts and the accounts file when set
	// (--user NAME:PASSWORD). UserHashes are users given with a bcrypt hash
	// in the config file.
	Users      []accounts.Credential
	UserHashes map[string][]byte
	// Aliases map local parts to users (postmaster = alice).
	Aliases map[string]string

	// Limits of the SMTP server; zero fields take their defaults.
	Limits smtp.Limits
	// RelayNets may relay without AUTH (default none, not even loopback).
	RelayNets []netip.Prefix
	// TrustedNets (--trusted-net) may use XCLIENT as loopback may, and are
	// exempt from the login throttle's
	// per-address limit (a classroom behind one NAT address); the
	// per-account limit still applies to them.
	TrustedNets []netip.Prefix
	// VRFY answers VRFY truthfully instead of 252.
	VRFY bool
	// Welcome delivers a welcome message from postmaster@ the primary
	// domain into each account's INBOX when its Maildir is created (a new
	// data directory), so that a first POP3 or IMAP session finds mail.
	// `mailx serve` sets it unless --no-welcome; tests leave it off.
	Welcome bool
	// NoTranscripts turns off the per-session files in DATA/transcripts.
	NoTranscripts bool
	// TranscriptsMaxSize and TranscriptsMaxAge bound DATA/transcripts: the
	// oldest files are removed first once the directory is over the size, or
	// a file over the age. Zero takes the defaults (100 MiB, 14 days);
	// negative is unlimited (a lab that keeps everything).
	TranscriptsMaxSize int64
	TranscriptsMaxAge  time.Duration
	// LogMaxSize is the size at which DATA/log/mailx.log becomes
	// mailx.log.1 and a new log starts. Zero takes DefaultLogMaxSize
	// (16 MiB); negative never rotates.
	LogMaxSize int64

	// Relay settings, used by the relay extension (server/relay).
	Routes    map[string]string // domain → host:port, overriding DNS
	Smarthost string            // host:port that takes all remote mail
	TimeScale float64           // 60: a minute of queue time passes in a second
	DNSServer string            // host:port of the DNS server for MX lookups
	Scenarios map[string]string // domain → teaching scenario (down, greylist, ...)
	Lab       bool              // start the lab internet
	// Retry schedule (relay_ext.go): zero fields take Postfix's defaults
	// (queue.DefaultSchedule); DelayWarning 0 sends no delay notices.
	RetryMin, RetryMax, Lifetime, DelayWarning time.Duration
	// LabPort and LabHops are set by the lab (lab.go), not by users: the
	// port of a lab exchanger, and the registry that links both ends of a
	// relay hop between lab MTAs.
	LabPort func(host string) (port string, ok bool)
	LabHops *relay.Hops
	// LabRoots, set by the lab, are the certificates the relay client
	// trusts instead of the system's: those of the lab's own servers, so
	// that STARTTLS between lab domains verifies as on the Internet.
	LabRoots *x509.CertPool

	// Spam holds sender authentication (SPF, DKIM, DMARC), blocklists and
	// the spam score (spam_ext.go).
	Spam SpamConfig

	// Trace receives every session line of every component; nil is off.
	Trace transcript.Hook
	// Logger replaces the log file DATA/log/mailx.log when set.
	Logger *slog.Logger
}

// off reports whether a listen address means "do not start".
func off(addr string) bool { return addr == "" || strings.EqualFold(addr, "off") }

// withDefaults fills in defaults. Listen addresses that were never set get
// their default; "off" stays off.
func (c Config) withDefaults() Config {
	if len(c.Domains) == 0 {
		c.Domains = []string{DefaultDomain}
	}
	if c.Hostname == "" {
		c.Hostname = c.Domains[0]
	}
	if c.SMTPAddr == "" {
		c.SMTPAddr = DefaultSMTPAddr
	}
	if c.SubmissionAddr == "" {
		c.SubmissionAddr = DefaultSubmissionAddr
	}
	if c.POP3Addr == "" {
		c.POP3Addr = DefaultPOP3Addr
	}
	if c.IMAPAddr == "" {
		c.IMAPAddr = DefaultIMAPAddr
	}
	return c
}

// ConfigError reports a setting that cannot work, whether it came from a
// flag or from the config file: the fix is to change that setting, so
// mailx serve treats it as a usage error (exit 2) and shows Hint.
type ConfigError struct {
	Setting string // the flag's name: "smtp", "hostname", "max-recipients", ...
	Problem string // what is wrong, e.g. `"localhost" is not HOST:PORT`
	Hint    string // what to write instead
}

func (e *ConfigError) Error() string { return e.Setting + ": " + e.Problem }

// validate checks the settings New cannot start with, so that each gets a
// message naming it instead of failing later in a component (a greeting
// with a space in the host name, a relay to a smarthost that is not an
// address, a negative limit taken silently as the default).
func (c Config) validate() error {
	for _, d := range c.Domains {
		if _, err := accounts.CanonicalDomain(d); err != nil {
			return &ConfigError{"domain", fmt.Sprintf("%q is %v", d, err), "Give mail domains as names such as crepes.test."}
		}
	}
	if c.Hostname != "" {
		if _, err := accounts.CanonicalDomain(c.Hostname); err != nil {
			return &ConfigError{"hostname", fmt.Sprintf("%q is %v", c.Hostname, err), "Give the server's name as a host name such as mx.crepes.test."}
		}
	}
	for _, l := range []struct {
		name string
		v    int
	}{
		{"max-recipients", c.Limits.Recipients}, {"max-errors", c.Limits.Errors}, {"max-line", c.Limits.CommandLine},
		{"max-sessions", c.Limits.Sessions}, {"max-sessions-per-client", c.Limits.SessionsPerClient}, {"text_line", c.Limits.TextLine},
	} {
		if l.v < 0 {
			return &ConfigError{l.name, fmt.Sprintf("%d is negative", l.v), "Give a positive number, or leave it out for the default."}
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"idle-timeout", c.Limits.Idle}, {"data-timeout", c.Limits.Data}, {"pop3-timeout", c.POP3Timeout},
		{"imap-autologout", c.IMAPAutologout}, {"retry-min", c.RetryMin}, {"retry-max", c.RetryMax},
		{"lifetime", c.Lifetime}, {"delay-warning", c.DelayWarning},
	} {
		if d.v < 0 {
			return &ConfigError{d.name, fmt.Sprintf("%s is negative", d.v), "Give a duration such as 30s, 5m or 2h."}
		}
	}
	if c.Smarthost != "" {
		if _, err := validAddr(c.Smarthost); err != nil {
			return &ConfigError{"smarthost", err.Error(), "Give the relay host as HOST:PORT, e.g. 127.0.0.1:2600."}
		}
	}
	for d, a := range c.Routes {
		if _, err := validAddr(a); err != nil {
			return &ConfigError{"route", d + ": " + err.Error(), "Give routes as DOMAIN=HOST:PORT, e.g. hill.test=127.0.0.1:2626."}
		}
	}
	if c.DNSServer != "" {
		if _, err := mx.ServerAddr(c.DNSServer); err != nil {
			return &ConfigError{"dns", err.Error(), "Give the DNS server as HOST or HOST:PORT, e.g. 127.0.0.1:5300."}
		}
	}
	return nil
}

// checkListen refuses non-loopback addresses unless public binds were
// allowed; it returns a description of what would be exposed otherwise.
func checkListen(name, addr string, public bool) error {
	if off(addr) {
		return nil
	}
	host, err := validAddr(addr)
	if err != nil {
		return &ConfigError{name, err.Error(), `Give listen addresses as HOST:PORT (e.g. 127.0.0.1:2525), or "off".`}
	}
	if public || isLoopbackHost(host) {
		return nil
	}
	return &PublicError{Name: name, Addr: addr}
}

// validAddr checks HOST:PORT and returns the host.
func validAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%q is not HOST:PORT (e.g. 127.0.0.1:2525)", addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return "", fmt.Errorf("%q has a bad port", addr)
	}
	return host, nil
}

// PublicError reports a listen address that would expose the server beyond
// this machine without the explicit permission to do so.
type PublicError struct{ Name, Addr string }

func (e *PublicError) Error() string {
	return fmt.Sprintf("%s address %s is not a loopback address: other machines could connect", e.Name, e.Addr)
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

// parseDuration accepts Go durations ("90s", "5m").
func parseDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 30s or 5m", v)
	}
	return d, nil
}
