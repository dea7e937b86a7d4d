package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/access"
	"github.com/mailx-edu/mailx/server/accounts"
	"github.com/mailx-edu/mailx/server/control"
	"github.com/mailx-edu/mailx/server/maildir"
	"github.com/mailx-edu/mailx/server/queue"
	"github.com/mailx-edu/mailx/server/smtp"
	"github.com/mailx-edu/mailx/server/tlscert"
)

// Service is one listener and the server behind it.
type Service struct {
	Name string // "smtp", "submission", "pop3", ... shown in the banner
	Addr string // the configured address; Addrs reports the bound one
	// ImplicitTLS wraps the listener in TLS (smtps, pop3s, imaps).
	ImplicitTLS bool
	Serve       func(net.Listener) error
	Shutdown    func(context.Context) error

	bound net.Addr
}

// Account is a user as the banner shows it.
type Account struct {
	Name string `json:"name"`
	// Password is shown only while it is still the practice default or was
	// given on the command line.
	Password string `json:"password,omitempty"`
}

// MTA is a configured mail server. Create it with New, then Start it.
type MTA struct {
	cfg   Config
	dir   *accounts.Directory
	cert  *tlscert.Result
	log   *slog.Logger
	logF  *rotatingLog
	trace *traceMux
	ids   access.Counter

	// QueueOptions are used to open the queue; the components New adds
	// before it opens may change them (the relay sets Remote, Policy, Bounce).
	QueueOptions queue.Options
	// Throttle is shared by every login (SMTP AUTH, POP3, IMAP).
	Throttle *access.Throttle
	// Budget is the session budget every listener shares (see budget.go).
	Budget *access.Budget

	services []*Service
	accts    []Account
	queue    *queue.Queue
	ctl      *control.Server
	smtp     []*smtp.Server
	relay    *relayState // relay_ext.go: scenarios, retry schedule, relay client
	spam     *spamState  // spam_ext.go: DKIM keys, learning filter, checker

	mu      sync.Mutex
	started bool
	closers []func(context.Context) error
}

// New checks cfg and prepares the data directory: TLS certificate,
// accounts, log, queue. It binds nothing yet.
func New(cfg Config) (*MTA, error) {
	cfg = cfg.withDefaults()
	if cfg.Data == "" {
		return nil, errors.New("no data directory given")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	for _, l := range []struct{ name, addr string }{
		{"smtp", cfg.SMTPAddr}, {"submission", cfg.SubmissionAddr}, {"smtps", cfg.SMTPSAddr},
		{"pop3", cfg.POP3Addr}, {"imap", cfg.IMAPAddr}, {"pop3s", cfg.POP3SAddr}, {"imaps", cfg.IMAPSAddr},
	} {
		if err := checkListen(l.name, l.addr, cfg.AllowPublic); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	m := &MTA{cfg: cfg}
	ok := false
	defer func() {
		if !ok {
			m.closeEarly()
		}
	}()
	if err := m.openLog(); err != nil {
		return nil, err
	}
	m.trace = newTraceMux(cfg.Trace, filepath.Join(cfg.Data, "transcripts"), !cfg.NoTranscripts, cfg.TranscriptsMaxSize, cfg.TranscriptsMaxAge, m.log)
	if cfg.LabHops != nil {
		m.trace.hops = cfg.LabHops.Wrap(m.trace.record)
	}
	// The certificate names the host (mx.crepes.test in the lab) as well
	// as the domains: a relay client checks the exchanger's name.
	names := slices.Clone(cfg.Domains)
	if !slices.Contains(names, cfg.Hostname) {
		names = append(names, cfg.Hostname)
	}
	cert, err := tlscert.LoadOrCreate(filepath.Join(cfg.Data, "tls"), names)
	if err != nil {
		return nil, err
	}
	m.cert = cert
	if err := m.loadAccounts(); err != nil {
		return nil, err
	}
	m.Throttle = &access.Throttle{Delay: cfg.Limits.WithDefaults().AuthFailDelay, Trusted: cfg.TrustedNets}
	m.Budget = m.sessionBudget()
	m.QueueOptions = queue.Options{
		Data:          cfg.Data,
		Resolve:       m.dir.Resolve,
		IsLocalDomain: m.dir.IsLocalDomain,
		Trace:         m.trace.hook,
		Logger:        m.log.With("component", "queue"),
	}
	// The components, in order, each in its own file. They run after the
	// directory, certificate, log and trace are ready and before the queue
	// opens, so they may set QueueOptions and AddService listeners (the
	// banner lists them in this order). The spam checks come last: they
	// attach to the SMTP servers and to the relay client made before them.
	m.addSMTP() // SMTP, submission, SMTPS (below)
	for _, add := range []func() error{
		m.addAccess, // access_ext.go: POP3, IMAP and their implicit-TLS twins
		m.addWeb,    // mta_web.go: the web mail bridge, a client of IMAP and submission
		m.addRelay,  // relay_ext.go: remote delivery, retry schedule, bounces, scenarios
		m.addSpam,   // spam_ext.go: DKIM signing, SPF/DKIM/DMARC, blocklists, spam score
	} {
		if err := add(); err != nil {
			return nil, err
		}
	}
	q, err := queue.Open(m.QueueOptions)
	if err != nil {
		if errors.Is(err, queue.ErrLocked) {
			return nil, fmt.Errorf("another mailx serve is already using %s (stop it first, or use another --data directory): %w", cfg.Data, err)
		}
		return nil, err
	}
	m.queue = q
	ok = true
	return m, nil
}

// openLog opens DATA/log/mailx.log unless a Logger was given.
func (m *MTA) openLog() error {
	if m.cfg.Logger != nil {
		m.log = m.cfg.Logger
		return nil
	}
	dir := filepath.Join(m.cfg.Data, "log")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("log: %w", err)
	}
	f, err := openRotatingLog(filepath.Join(dir, "mailx.log"), m.cfg.LogMaxSize)
	if err != nil {
		return fmt.Errorf("log: %w", err)
	}
	m.logF = f
	m.log = slog.New(slog.NewJSONHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo}))
	return nil
}

// loadAccounts builds the directory from --user/config users, or the
// accounts file, creating the practice accounts in it on first start.
func (m *MTA) loadAccounts() error {
	users := map[string][]byte{}
	file := ""
	switch {
	case len(m.cfg.Users) > 0 || len(m.cfg.UserHashes) > 0:
		for _, c := range m.cfg.Users {
			h, err := accounts.Hash(c.Password)
			if err != nil {
				return fmt.Errorf("user %s: %w", c.Name, err)
			}
			users[c.Name] = h
			m.accts = append(m.accts, Account{Name: c.Name, Password: c.Password})
		}
		for u, h := range m.cfg.UserHashes {
			users[u] = h
			m.accts = append(m.accts, Account{Name: u})
		}
	default:
		file = filepath.Join(m.cfg.Data, "accounts")
		f, err := accounts.Load(file)
		if err != nil {
			return err
		}
		if len(f.Users()) == 0 {
			for _, c := range accounts.Practice {
				if err := f.Set(c.Name, c.Password); err != nil {
					return err
				}
			}
			if err := f.Save(); err != nil {
				return err
			}
		}
		users = f.Hashes()
		practice := map[string]string{}
		for _, c := range accounts.Practice {
			practice[c.Name] = c.Password
		}
		for _, u := range f.Users() {
			a := Account{Name: u}
			if p, ok := practice[u]; ok {
				d, _ := accounts.New(accounts.Config{Domains: m.cfg.Domains, Users: map[string][]byte{u: users[u]}})
				if d != nil && d.Authenticate(u, p) {
					a.Password = p
				}
			}
			m.accts = append(m.accts, a)
		}
	}
	slices.SortFunc(m.accts, func(a, b Account) int { return strings.Compare(a.Name, b.Name) })
	dir, err := accounts.New(accounts.Config{Domains: m.cfg.Domains, Users: users, Aliases: m.cfg.Aliases, File: file})
	if err != nil {
		return err
	}
	m.dir = dir
	for u := range users {
		root := maildir.Root(m.cfg.Data, u)
		if err := m.createMaildir(u); err != nil {
			return fmt.Errorf("maildir for %s: %w", u, err)
		}
		// Opened once now, while there is room, the mailbox has its
		// subscriptions file: POP3 and IMAP then open it without writing,
		// even on a disk that has filled up since.
		if _, err := maildir.OpenMailbox(root); err != nil {
			m.log.Warn("cannot prepare the mailbox; POP3 and IMAP will try again at login", "user", u, "err", err)
		}
	}
	return nil
}

// journalSettler is what POP3 and IMAP run before they remove message
// files (maildir.Settler): the queue's Settle, which makes the intake
// journal's checkpoint first so that a crash cannot bring a deleted
// message back. The servers are built before the queue opens (New), so it
// finds the queue when a deletion comes.
type journalSettler struct{ m *MTA }

func (s journalSettler) Settle() {
	if q := s.m.queue; q != nil {
		q.Settle()
	}
}

// queueIntake lets the SMTP server write into the queue.
type queueIntake struct{ m *MTA }

func (qi queueIntake) Begin() (smtp.MessageWriter, error) {
	w, err := qi.m.queue.Begin()
	if err != nil {
		return nil, err
	}
	return intakeWriter{w}, nil
}

type intakeWriter struct{ *queue.Writer }

// Commit lets the session answer 250 before the local copies are written
// (see queue.Writer.CommitThen).
func (w intakeWriter) Commit(env queue.Envelope) (string, func(), error) {
	return w.Writer.CommitThen(env)
}

func (w intakeWriter) Abort() { w.Writer.Abort() }

// addSMTP registers the SMTP, submission and SMTPS services.
func (m *MTA) addSMTP() {
	base := smtp.Config{
		Hostname:  m.cfg.Hostname,
		Directory: m.dir,
		Queue:     queueIntake{m},
		TLS:       m.cert.ServerConfig(),
		Limits:    m.cfg.Limits,
		RelayNets: m.cfg.RelayNets,
		VRFY:      m.cfg.VRFY,
		Trace:     m.trace.hook,
		SessionID: m.SessionID,
		Throttle:  m.Throttle,
		Budget:    m.Budget,
		DiskFree:  func() (uint64, error) { return smtp.DiskFree(m.cfg.Data) },
		Ready:     m.queueReady,
	}
	add := func(name, addr string, submission, implicit bool) {
		if off(addr) {
			return
		}
		c := base
		c.Name, c.Submission = name, submission
		c.Logger = m.log.With("component", name)
		s := smtp.New(c)
		m.smtp = append(m.smtp, s)
		m.AddService(&Service{Name: name, Addr: addr, ImplicitTLS: implicit, Serve: s.Serve, Shutdown: s.Shutdown})
	}
	add("smtp", m.cfg.SMTPAddr, false, false)
	add("submission", m.cfg.SubmissionAddr, true, false)
	add("smtps", m.cfg.SMTPSAddr, true, true)
}

// queueReady says whether the queue takes new mail: not while it still
// puts back messages journaled before a restart on a full disk.
func (m *MTA) queueReady() error {
	if q := m.queue; q != nil && q.ReplayPending() {
		return queue.ErrReplayPending
	}
	return nil
}

// AddService registers a listener to start with the others.
func (m *MTA) AddService(s *Service) { m.services = append(m.services, s) }

// Config returns the configuration with defaults filled in.
func (m *MTA) Config() Config { return m.cfg }

// Directory returns the accounts directory.
func (m *MTA) Directory() *accounts.Directory { return m.dir }

// TLSConfig returns the server TLS configuration (the kept certificate).
func (m *MTA) TLSConfig() *tls.Config { return m.cert.ServerConfig() }

// Certificate returns the certificate and where it is kept.
func (m *MTA) Certificate() *tlscert.Result { return m.cert }

// Logger returns the structured log.
func (m *MTA) Logger() *slog.Logger { return m.log }

// Trace returns the hook every component reports its lines to.
func (m *MTA) Trace() transcript.Hook { return m.trace.hook }

// SessionID returns the next session id ("s12"), unique in this MTA.
func (m *MTA) SessionID() string { return m.ids.Next() }

// Queue returns the queue (nil while New adds the components, which run before it opens).
func (m *MTA) Queue() *queue.Queue { return m.queue }

// MailRoot returns a user's Maildir root.
func (m *MTA) MailRoot(user string) string { return maildir.Root(m.cfg.Data, user) }

// Accounts returns the users for the banner.
func (m *MTA) Accounts() []Account { return slices.Clone(m.accts) }

// OnShutdown registers f to run at Shutdown, after the listeners stop and
// before the queue closes (a component's background work).
func (m *MTA) OnShutdown(f func(context.Context) error) { m.closers = append(m.closers, f) }

// Start binds every listener, starts queue delivery and the control
// endpoint. On error nothing is left running.
func (m *MTA) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return errors.New("server already started")
	}
	var lc net.ListenConfig
	var bound []net.Listener
	for _, s := range m.services {
		l, err := lc.Listen(ctx, "tcp", s.Addr)
		if err != nil {
			for _, b := range bound {
				b.Close()
			}
			return &ListenError{Service: s.Name, Addr: s.Addr, Err: err}
		}
		s.bound = l.Addr()
		if s.ImplicitTLS {
			l = tls.NewListener(l, m.cert.ServerConfig())
		}
		bound = append(bound, l)
	}
	for i, s := range m.services {
		go func(s *Service, l net.Listener) {
			if err := s.Serve(l); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, access.ErrClosed) && !errors.Is(err, net.ErrClosed) {
				m.log.Error("listener stopped", "service", s.Name, "err", err)
			}
		}(s, bound[i])
	}
	m.queue.Start(ctx)
	ctl, err := control.Start(ctx, m.cfg.Data, m.log.With("component", "control"))
	if err != nil {
		m.log.Warn("no control endpoint: mailx queue will read the queue files instead", "err", err)
	} else {
		m.registerControlCalls(ctl)
		m.ctl = ctl
	}
	m.started = true
	addrs := map[string]string{}
	for _, s := range m.services {
		addrs[s.Name] = s.bound.String()
	}
	m.log.Info("mailx serve started", "domains", m.cfg.Domains, "listen", addrs, "data", m.cfg.Data)
	return nil
}

// registerControlCalls adds every call the control endpoint answers: the
// commands that talk to a running server (mailx queue, serve user, serve
// scenario, serve blocklist) find their calls here.
func (m *MTA) registerControlCalls(ctl *control.Server) {
	control.RegisterQueue(ctl, m.queue)        // list, show, flush, ... (server/control)
	ctl.Handle(CallAccounts, m.accountsCall)   // control_accounts.go
	ctl.Handle(CallScenario, m.scenarioCall)   // relay_ext.go
	ctl.Handle(CallBlocklist, m.blocklistCall) // spam_control.go
}

// ListenError reports a listener that could not bind.
type ListenError struct {
	Service, Addr string
	// Flag is the mailx serve flag that sets the address; "" means the
	// flag is named like the service (--smtp, --pop3, ...).
	Flag string
	Err  error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("cannot listen for %s on %s: %v", e.Service, e.Addr, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// Addrs returns the bound address of every service by name, in start
// order, so tests that listen on ":0" can find them.
func (m *MTA) Addrs() []ServiceAddr {
	var out []ServiceAddr
	for _, s := range m.services {
		a := ServiceAddr{Name: s.Name, Addr: s.Addr, ImplicitTLS: s.ImplicitTLS}
		if s.bound != nil {
			a.Addr = boundAddr(s.Addr, s.bound)
		}
		out = append(out, a)
	}
	return out
}

// boundAddr is the address a listener got: the real port (for ":0"), and
// the configured host when it was a wildcard, since Go reports a listener
// on 0.0.0.0 as [::] and the banner should say what the user asked for.
func boundAddr(configured string, bound net.Addr) string {
	host, _, err := net.SplitHostPort(configured)
	_, port, berr := net.SplitHostPort(bound.String())
	if err != nil || berr != nil {
		return bound.String()
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		return net.JoinHostPort(host, port)
	}
	return bound.String()
}

// Addr returns the bound address of one service, or "".
func (m *MTA) Addr(name string) string {
	for _, a := range m.Addrs() {
		if a.Name == name {
			return a.Addr
		}
	}
	return ""
}

// ServiceAddr is one service's address.
type ServiceAddr struct {
	Name        string `json:"name"`
	Addr        string `json:"addr"`
	ImplicitTLS bool   `json:"implicit_tls,omitempty"`
}

// Shutdown stops the listeners (sessions receiving a message may finish
// until ctx ends), then the components' OnShutdown work, queue delivery, the control endpoint,
// transcripts and the log. Acknowledged messages stay in the queue.
func (m *MTA) Shutdown(ctx context.Context) error {
	var errs []error
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, s := range m.services {
		if s.Shutdown == nil {
			continue
		}
		wg.Add(1)
		go func(s *Service) {
			defer wg.Done()
			if err := s.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", s.Name, err))
				mu.Unlock()
			}
		}(s)
	}
	wg.Wait()
	for _, f := range m.closers {
		if err := f(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	m.closeEarly()
	return errors.Join(errs...)
}

// closeEarly releases what New opened.
func (m *MTA) closeEarly() {
	if m.ctl != nil {
		m.ctl.Close()
		m.ctl = nil
	}
	if m.queue != nil {
		m.queue.Close()
		m.queue = nil
	}
	if m.trace != nil {
		m.trace.close()
	}
	if m.logF != nil {
		m.log.Info("mailx serve stopped")
		m.logF.Close()
		m.logF = nil
	}
}

// ShutdownGrace is how long callers of Shutdown usually let sessions that
// are receiving a message finish (Ctrl-C in mailx serve).
const ShutdownGrace = 10 * time.Second
