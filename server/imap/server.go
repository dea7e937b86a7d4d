package imap

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"github.com/mailx-edu/mailx/server/access"
	"github.com/mailx-edu/mailx/server/maildir"
)

// Accounts checks passwords and maps login names to users;
// *accounts.Directory implements it.
type Accounts = access.Accounts

// Config describes the server.
type Config struct {
	// MailboxServer is what POP3 and IMAP share: accounts, Maildirs,
	// TLS, the login timeout, budget and throttle, trace and log.
	access.MailboxServer
	// Autologout closes a connection idle this long. Default 30 minutes,
	// the minimum RFC 9051 §5.4 allows.
	Autologout time.Duration
	// DrainTimeout bounds how long the answers to the commands a client
	// sent before ending its side of the connection may take. Default 10 s.
	DrainTimeout time.Duration
	// AppendLimit is the largest message APPEND accepts (APPENDLIMIT,
	// RFC 7889). Default 64 MiB.
	AppendLimit uint32
	// MinFreeDisk is the free space (octets) APPEND leaves on the data
	// directory's file system, as SMTP's min_free_disk: an APPEND that
	// would go below it gets NO [LIMIT]. 0 checks nothing.
	MinFreeDisk uint64
	// DiskFree reports the free space for MinFreeDisk; nil checks nothing.
	DiskFree func() (uint64, error)
	// TraceLiteral is how many octets of a literal (a message in FETCH or
	// APPEND) are shown in the trace line by line; longer ones are
	// summarised. Default 4096.
	TraceLiteral int
}

// Server is an IMAP server. Serve may be called for several listeners.
type Server struct {
	cfg  Config
	log  *slog.Logger
	ids  access.Counter
	imap *imapserver.Server
	pipe *pipeListener

	acc   access.Acceptor
	mu    sync.Mutex
	conns map[net.Conn]*conn // go-imap's end of each pipe → its front end
	wg    sync.WaitGroup
	// sessions counts go-imap sessions not yet closed: a session's Close
	// writes Dovecot's UID list, which must be done before Shutdown returns
	// (the data directory may be removed or copied right after).
	sessions sync.WaitGroup

	trackers sync.Map // *maildir.Folder → *imapserver.MailboxTracker
	trackMu  sync.Mutex

	meta *metaCache // ENVELOPE and BODYSTRUCTURE by message (structure.go)
}

// New returns a server for cfg and starts its go-imap engine.
func New(cfg Config) *Server {
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	if cfg.Autologout <= 0 {
		cfg.Autologout = 30 * time.Minute
	}
	if cfg.AppendLimit == 0 {
		cfg.AppendLimit = 64 << 20
	}
	if cfg.TraceLiteral <= 0 {
		cfg.TraceLiteral = 4096
	}
	s := &Server{conns: map[net.Conn]*conn{}, meta: newMetaCache(50000)}
	cfg.SetDefaults(BudgetClass, cfg.Autologout, &s.ids)
	s.cfg, s.log = cfg, cfg.Logger
	s.acc.Logger = s.log
	s.pipe = newPipeListener()
	s.imap = imapserver.New(&imapserver.Options{
		NewSession: s.newSession,
		Caps: imap.CapSet{
			imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}, imap.CapNamespace: {}, imap.CapUIDPlus: {}, imap.CapMove: {},
			imap.CapSpecialUse: {}, imap.CapChildren: {}, imap.CapLiteralPlus: {},
		},
		Logger: slogPrintf{s.log},
		// The front end enforces TLS before clear-text passwords (it knows
		// the real connection); go-imap only sees an in-memory pipe.
		InsecureAuth: true,
	})
	go s.imap.Serve(s.pipe)
	return s
}

// slogPrintf lets go-imap log through slog.
type slogPrintf struct{ l *slog.Logger }

func (p slogPrintf) Printf(format string, args ...any) {
	p.l.Warn("imap: " + fmt.Sprintf(format, args...))
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = access.ErrClosed

// Serve accepts connections on l until Shutdown. Connections accepted from a
// tls.Listener (see ServeTLS) are implicit TLS: IMAPS, RFC 8314.
func (s *Server) Serve(l net.Listener) error { return s.acc.Serve(l, s.start) }

// ServeTLS serves implicit-TLS IMAP (IMAPS) on l with Config.TLS.
func (s *Server) ServeTLS(l net.Listener) error {
	return s.acc.ServeTLS(l, s.cfg.TLS, s.start)
}

// start wires a client connection to go-imap through an in-memory pipe and
// the front end.
func (s *Server) start(c net.Conn) {
	release, why := s.cfg.Budget.Acquire(BudgetClass, access.AddrOf(c.RemoteAddr()))
	if why != "" {
		s.cfg.Budget.Refused(s.log, "imap", c.RemoteAddr().String(), why)
		go busy(c, why)
		return
	}
	inner, outer := net.Pipe()
	fc := newConn(s, c, outer)
	s.mu.Lock()
	if s.acc.Closing() {
		s.mu.Unlock()
		release()
		c.Close()
		return
	}
	s.conns[inner] = fc
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer release()
		defer func() {
			s.mu.Lock()
			delete(s.conns, inner)
			s.mu.Unlock()
		}()
		fc.run(func() { s.pipe.push(inner) })
	}()
}

// BudgetClass is IMAP's class in a shared access.Budget.
const BudgetClass = "imap"

// DefaultLoginTimeout is Config.LoginTimeout's default.
const DefaultLoginTimeout = access.DefaultLoginTimeout

// busy answers a connection over the session budget with the BYE greeting
// of RFC 9051 §7.1.5 (the server will not serve this client now) and
// closes it.
func busy(c net.Conn, why string) {
	defer c.Close()
	c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	io.WriteString(c, "* BYE [UNAVAILABLE] too busy ("+why+"); try again later\r\n")
}

func (s *Server) connFor(inner net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[inner]
}

// Shutdown stops accepting, says BYE to every client and closes the
// connections, waiting for them or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.acc.Close()
	s.mu.Lock()
	var open []*conn
	for _, c := range s.conns {
		open = append(open, c)
	}
	s.mu.Unlock()
	for _, c := range open {
		c.bye("server shutting down")
	}
	s.pipe.Close()
	done := make(chan struct{})
	go func() { s.wg.Wait(); s.sessions.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tracker returns the one go-imap MailboxTracker of a folder, attaching it
// to the folder's change feed on first use, so every session on that folder
// learns of EXISTS, EXPUNGE and flag changes in the same order.
func (s *Server) tracker(f *maildir.Folder) (*imapserver.MailboxTracker, error) {
	if t, ok := s.trackers.Load(f); ok {
		return t.(*imapserver.MailboxTracker), nil
	}
	s.trackMu.Lock()
	defer s.trackMu.Unlock()
	if t, ok := s.trackers.Load(f); ok {
		return t.(*imapserver.MailboxTracker), nil
	}
	var mt *imapserver.MailboxTracker
	_, err := f.Attach(func(count uint32) func(maildir.Change) {
		mt = imapserver.NewMailboxTracker(count)
		return func(c maildir.Change) {
			switch c.Kind {
			case maildir.Expunged:
				mt.QueueExpunge(c.Seq)
			case maildir.Exists:
				mt.QueueNumMessages(c.Count)
			case maildir.KeywordsChanged:
				flags, _ := folderFlags(c.Keywords)
				mt.QueueMailboxFlags(flags)
			case maildir.FlagsChanged:
				src, _ := c.Source.(*imapserver.SessionTracker)
				flags := imapFlags(c.Flags)
				for _, k := range c.Keywords {
					flags = append(flags, imap.Flag(k))
				}
				mt.QueueMessageFlags(c.Seq, imap.UID(c.UID), flags, src)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	s.trackers.Store(f, mt)
	return mt, nil
}

// pipeListener hands go-imap the server ends of the pipes.
type pipeListener struct {
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{ch: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) push(c net.Conn) {
	select {
	case l.ch <- c:
	case <-l.closed:
		c.Close()
	}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "mailx-imap" }
