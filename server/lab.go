package server

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/accounts"
	"github.com/mailx-edu/mailx/server/labdns"
	"github.com/mailx-edu/mailx/server/relay"
)

// The lab internet: several mail domains in one process, each a separate
// MTA with its own ports, queue and Maildirs, plus a lab DNS server that
// publishes their MX records. Mail between them goes over real SMTP on
// loopback, found by MX through the lab DNS; the exchanger → port table
// (see server/labdns) picks the port, since every exchanger is 127.0.0.1.

// LabDomain is one mail domain of the lab.
type LabDomain struct {
	Domain string
	// Users are the domain's accounts.
	Users []accounts.Credential
	// Listen addresses; "" or "off" is not started.
	SMTPAddr, SubmissionAddr, POP3Addr, IMAPAddr string
	// Scenario is the teaching scenario at start (see server/scenario).
	Scenario string
}

// DefaultLabDNS is the lab DNS server's default address. 5300, not 53
// (administrator rights) nor 5353 (multicast DNS, often taken).
const DefaultLabDNS = "127.0.0.1:5300"

// DefaultNoMail is the lab's domain with a null MX (RFC 7505), to show an
// immediate bounce.
const DefaultNoMail = "nomail.test"

// DefaultLabDomains is the course notes' scenario: Alice at crepes.test
// writes to Bob at hamburger.test. crepes.test keeps mailx serve's usual
// ports; hamburger.test takes the next ones.
func DefaultLabDomains() []LabDomain {
	return []LabDomain{
		{Domain: "crepes.test", Users: []accounts.Credential{accounts.Practice[0]},
			SMTPAddr: "127.0.0.1:2525", SubmissionAddr: "127.0.0.1:2587", POP3Addr: "127.0.0.1:1100", IMAPAddr: "127.0.0.1:1430"},
		{Domain: "hamburger.test", Users: []accounts.Credential{accounts.Practice[1]},
			SMTPAddr: "127.0.0.1:2526", SubmissionAddr: "127.0.0.1:2588", POP3Addr: "127.0.0.1:1101", IMAPAddr: "127.0.0.1:1431"},
	}
}

// LabConfig configures a lab.
type LabConfig struct {
	// Data is the lab's directory; each domain keeps its data in Data/DOMAIN.
	Data string
	// DNSAddr is the lab DNS server's address; "" means DefaultLabDNS.
	DNSAddr string
	// Domains are the lab's mail domains; nil means DefaultLabDomains.
	Domains []LabDomain
	// NoMail are domains published with a null MX; nil means DefaultNoMail.
	NoMail []string
	// Base holds the settings every MTA shares (time scale, retry schedule,
	// limits, trace, logger, ...). Its domains, addresses, users, data,
	// routes, smarthost and DNS server are the lab's to set.
	Base Config
}

// Lab is a running lab internet.
type Lab struct {
	DNS     *labdns.Server
	Domains []LabDomain
	MTAs    []*MTA // in the order of Domains
	Hops    *relay.Hops
	NoMail  []string

	mu    sync.RWMutex
	ports map[string]string // exchanger host → SMTP port
}

// NewLab starts the lab DNS server and prepares one MTA per domain. Start
// binds their listeners.
func NewLab(cfg LabConfig) (*Lab, error) {
	if cfg.Data == "" {
		return nil, errors.New("lab: no data directory given")
	}
	if cfg.Domains == nil {
		cfg.Domains = DefaultLabDomains()
	}
	if cfg.NoMail == nil {
		cfg.NoMail = []string{DefaultNoMail}
	}
	if cfg.DNSAddr == "" {
		cfg.DNSAddr = DefaultLabDNS
	}
	if len(cfg.Domains) == 0 {
		return nil, errors.New("lab: no domains")
	}
	l := &Lab{Domains: cfg.Domains, Hops: relay.NewHops(), NoMail: cfg.NoMail, ports: map[string]string{}}
	var zones []labdns.Zone
	seen := map[string]bool{}
	for _, d := range cfg.Domains {
		name := strings.ToLower(d.Domain)
		if seen[name] {
			return nil, &ConfigError{"domain", fmt.Sprintf("lab domain %s is given twice", name), "Give each lab domain once."}
		}
		seen[name] = true
		zones = append(zones, labdns.Zone{Domain: name})
	}
	for _, d := range cfg.NoMail {
		if !seen[strings.ToLower(d)] {
			zones = append(zones, labdns.Zone{Domain: d, NullMX: true})
		}
	}
	if err := checkListen("dns", cfg.DNSAddr, cfg.Base.AllowPublic); err != nil {
		return nil, err
	}
	// The lab DNS reports each query and answer to the trace (session
	// "dns"), so --trace shows the MX lookup from the server's side too.
	dns, err := labdns.Start(labdns.Config{Addr: cfg.DNSAddr, Zones: zones, Trace: cfg.Base.Trace})
	if err != nil {
		return nil, &ListenError{Service: "lab DNS", Flag: "dns", Addr: cfg.DNSAddr, Err: err}
	}
	l.DNS = dns
	ok := false
	defer func() {
		if !ok {
			l.close(context.Background())
		}
	}()
	// The lab's servers trust one another's self-signed certificates, as
	// real servers trust the public certificate authorities.
	roots := x509.NewCertPool()
	for i, d := range cfg.Domains {
		c := cfg.Base
		name := strings.ToLower(d.Domain)
		c.Domains = []string{name}
		c.Hostname = "mx." + name
		c.Data = filepath.Join(cfg.Data, name)
		c.SMTPAddr, c.SubmissionAddr, c.POP3Addr, c.IMAPAddr = offIfEmpty(d.SMTPAddr), offIfEmpty(d.SubmissionAddr), offIfEmpty(d.POP3Addr), offIfEmpty(d.IMAPAddr)
		c.WebAddr = labWebAddr(cfg.Base.WebAddr, i, c.IMAPAddr)
		c.Users, c.UserHashes = d.Users, nil
		c.Routes, c.Smarthost = nil, ""
		c.DNSServer = dns.Addr()
		c.Scenarios = nil
		if d.Scenario != "" {
			c.Scenarios = map[string]string{name: d.Scenario}
		}
		c.LabPort, c.LabHops, c.LabRoots = l.portFor, l.Hops, roots
		c.Trace = l.traceFor(name, cfg.Base.Trace)
		l.authConfig(&c, len(l.MTAs))
		m, err := New(c)
		if err != nil {
			return nil, fmt.Errorf("lab domain %s: %w", name, err)
		}
		l.MTAs = append(l.MTAs, m)
		if leaf := m.Certificate().Cert.Leaf; leaf != nil {
			roots.AddCert(leaf)
		}
	}
	if err := l.publishAuth(); err != nil {
		return nil, err
	}
	ok = true
	return l, nil
}

func offIfEmpty(a string) string {
	if a == "" {
		return "off"
	}
	return a
}

// traceFor labels each event of domain's MTA with the domain ("crepes/s3"),
// since every MTA numbers its own sessions. (Each MTA names relay hops
// itself, before its transcripts: see Config.LabHops.)
func (l *Lab) traceFor(domain string, next transcript.Hook) transcript.Hook {
	if next == nil {
		return nil
	}
	label, _, _ := strings.Cut(domain, ".")
	return func(e transcript.Event) {
		e.Session = label + "/" + e.Session
		next(e)
	}
}

// portFor answers the relay clients' "which port for this exchanger".
func (l *Lab) portFor(host string) (string, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	p, ok := l.ports[host]
	return p, ok
}

// Start starts every MTA and records its SMTP port for the others' relay
// clients. On error nothing is left running.
func (l *Lab) Start(ctx context.Context) error {
	for i, m := range l.MTAs {
		if err := m.Start(ctx); err != nil {
			for _, started := range l.MTAs[:i] {
				started.Shutdown(ctx)
			}
			return fmt.Errorf("lab domain %s: %w", l.Domains[i].Domain, err)
		}
		if a := m.Addr("smtp"); a != "" {
			if _, port, err := net.SplitHostPort(a); err == nil {
				l.mu.Lock()
				l.ports["mx."+strings.ToLower(l.Domains[i].Domain)] = port
				l.mu.Unlock()
			}
		}
	}
	return nil
}

// MTA returns the MTA of domain, or nil.
func (l *Lab) MTA(domain string) *MTA {
	for i, d := range l.Domains {
		if strings.EqualFold(d.Domain, domain) {
			return l.MTAs[i]
		}
	}
	return nil
}

// Port returns the SMTP port of a lab exchanger, as the relay clients use it.
func (l *Lab) Port(exchanger string) string {
	p, _ := l.portFor(strings.ToLower(exchanger))
	return p
}

// Shutdown stops every MTA and the DNS server.
func (l *Lab) Shutdown(ctx context.Context) error {
	return l.close(ctx)
}

func (l *Lab) close(ctx context.Context) error {
	var errs []error
	for _, m := range l.MTAs {
		if err := m.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if l.DNS != nil {
		if err := l.DNS.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
