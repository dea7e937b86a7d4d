package cmd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/web"
)

type webOptions struct {
	IO *IOStreams

	Listen      string
	Public      bool
	IMAP        string
	SMTP        string
	IMAPTLS     string
	SMTPTLS     string
	Domain      string
	CAFile      string
	Insecure    bool
	Transcripts string
	NoBridge    bool
	TLSCert     string
	TLSKey      string
	Trace       bool
	Quiet       bool
	JSON        bool

	// ready, when set, is called with the bound address (tests).
	ready func(addr string)
}

const webLong = `Run web mail in your browser: an HTTP server that is a real mail client of
any IMAP and submission server. You log in with your own mail account; the
bridge logs in to IMAP (to read) and to submission with AUTH (to send) with
that password, which it keeps in memory only while you are logged in.

It is the course notes' bridge made visible: "browsers speak HTTP, e-mail
servers speak SMTP and IMAP: we need a bridge". The bridge pane beside the
page lists every HTTP request your browser made and, under it, the IMAP and
SMTP lines the bridge exchanged to answer it, explained as in mailx imap talk
and mailx smtp talk (passwords hidden). Every web session's lines are also
written to --transcripts, one file per session.

Pages: folders with unread counts; the message list (pages of 50, newest
first, search with IMAP SEARCH, unread and flagged filters); each message in
tabs (rendered, plain text, headers explained, raw source, MIME tree with
downloadable parts); compose, reply, forward with attachments; move, delete,
flag, mark unread. New mail appears without reloading (IMAP IDLE on the
server side, server-sent events to the page).

HTML mail is cleaned on the server and shown in a sandboxed frame that may
run no script; remote images load only when you click "load remote images".

mailx serve starts the same web mail for its own domain (--web); use mailx
web for any other server. Security of the connections to the mail servers:
--imap-tls and --smtp-tls (auto: implicit TLS on 993 and 465, STARTTLS
elsewhere, clear text only to a server on this machine).

A JSON API for scripts answers at /api/v1/ with HTTP Basic (over loopback or
TLS) or a token: /api/v1/folders, /api/v1/messages?folder=INBOX,
/api/v1/messages/UID?folder=INBOX&raw=1, POST /api/v1/send, /api/v1/bridge.`

const webExample = `  mailx web                                      # the local mailx serve, at http://127.0.0.1:8080
  mailx web --imap 127.0.0.1:1431 --smtp 127.0.0.1:2588 --domain hamburger.test --listen 127.0.0.1:8081
  mailx web --imap imap.example.com:993 --smtp smtp.example.com:465
  mailx web --trace                              # print every bridged line here too
  curl -u alice:hungry http://127.0.0.1:8080/api/v1/messages?folder=INBOX`

func newWebCmd(ios *IOStreams, runF func(context.Context, *webOptions) error) *cobra.Command {
	opts := &webOptions{IO: ios}
	c := &cobra.Command{
		Use:     "web",
		Short:   "Read and send mail in a browser, and see the IMAP and SMTP each click causes",
		Long:    webLong,
		Example: webExample,
		Args:    noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if runF == nil {
				runF = runWeb
			}
			return runF(c.Context(), opts)
		},
	}
	fs := c.Flags()
	fs.StringVar(&opts.Listen, "listen", "127.0.0.1:8080", "HTTP listen address")
	fs.BoolVar(&opts.Public, "public", false, "allow a listen address other machines can reach (a classroom server)")
	fs.StringVar(&opts.IMAP, "imap", "127.0.0.1:1430", "IMAP server HOST:PORT (993: implicit TLS)")
	fs.StringVar(&opts.SMTP, "smtp", "127.0.0.1:2587", "submission server HOST:PORT (465: implicit TLS)")
	fs.StringVar(&opts.IMAPTLS, "imap-tls", "auto", "IMAP security: auto, implicit, starttls or none")
	fs.StringVar(&opts.SMTPTLS, "smtp-tls", "auto", "submission security: auto, implicit, starttls or none")
	fs.StringVar(&opts.Domain, "domain", "mailx.test", `domain added to a login name without "@" to make the sender address ("" to require full addresses)`)
	fs.StringVar(&opts.CAFile, "ca", "", "PEM file of the certificate(s) to trust for the mail servers (e.g. mailx serve's tls/cert.pem)")
	fs.BoolVar(&opts.Insecure, "insecure", false, "do not check the mail servers' certificates (a practice server only)")
	fs.StringVar(&opts.Transcripts, "transcripts", "", `directory for one transcript per web session (default: the state directory's web/transcripts; "off" for none)`)
	fs.StringVar(&opts.TLSCert, "tls-cert", "", "serve HTTPS with this PEM certificate (with --tls-key); needed for --public")
	fs.StringVar(&opts.TLSKey, "tls-key", "", "the PEM private key of --tls-cert")
	fs.BoolVar(&opts.NoBridge, "no-bridge", false, "hide the bridge pane until the user opens it")
	fs.BoolVar(&opts.Trace, "trace", false, "print every bridged line, annotated, and every HTTP request")
	fs.BoolVar(&opts.Quiet, "quiet", false, "with --trace: raw lines only, no explanations")
	fs.BoolVar(&opts.JSON, "json", false, "print the start-up report and the trace as JSON lines")
	return c
}

// webReport is the start-up banner as JSON.
type webReport struct {
	Event       string `json:"event"`
	URL         string `json:"url"`
	IMAP        string `json:"imap"`
	Submission  string `json:"submission"`
	Transcripts string `json:"transcripts,omitempty"`
}

func runWeb(ctx context.Context, opts *webOptions) error {
	for _, a := range []struct{ flag, v string }{{"listen", opts.Listen}, {"imap", opts.IMAP}, {"smtp", opts.SMTP}} {
		if _, port, err := net.SplitHostPort(a.v); err != nil || port == "" {
			return usageError("Give it as HOST:PORT, e.g. 127.0.0.1:1430.", "--%s %q is not HOST:PORT", a.flag, a.v)
		}
	}
	for _, m := range []struct{ flag, v string }{{"imap-tls", opts.IMAPTLS}, {"smtp-tls", opts.SMTPTLS}} {
		switch strings.ToLower(m.v) {
		case web.TLSAuto, web.TLSImplicit, web.TLSStart, web.TLSNone:
		default:
			return usageError("Choose auto, implicit, starttls or none.", "--%s %q is not a security mode", m.flag, m.v)
		}
	}
	host, _, _ := net.SplitHostPort(opts.Listen)
	if !opts.Public && !isLoopbackName(host) {
		return usageError("Add --public if you mean to let other machines connect (a classroom server), or use 127.0.0.1.",
			"listen address %s is not a loopback address: other machines could connect", opts.Listen)
	}
	var serverTLS *tls.Config
	if (opts.TLSCert == "") != (opts.TLSKey == "") {
		return usageError("Give both --tls-cert and --tls-key, e.g. mailx serve's DATA/tls/cert.pem and key.pem.", "--tls-cert and --tls-key go together")
	}
	if opts.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
		if err != nil {
			return usageError("Give PEM files of a certificate and its key.", "cannot load the certificate: %v", err)
		}
		serverTLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if opts.Public && serverTLS == nil && !isLoopbackName(host) {
		return usageError("Add --tls-cert and --tls-key (mailx serve's DATA/tls/cert.pem and key.pem will do): passwords must not cross the network in clear.",
			"--public needs HTTPS")
	}
	r := opts.IO.RendererWith(render.Options{JSON: opts.JSON, Quiet: opts.Quiet})
	var hooks []transcript.Hook
	if opts.Trace {
		hooks = append(hooks, webTrace(r))
	}
	dir := opts.Transcripts
	if dir == "" {
		sd, err := opts.IO.StateDir()
		if err == nil {
			dir = filepath.Join(sd, "web", "transcripts")
		}
	}
	if strings.EqualFold(dir, "off") {
		dir = ""
	}
	if dir != "" {
		h, err := web.TranscriptFiles(dir)
		if err != nil {
			return failure("Choose a writable directory with --transcripts DIR, or --transcripts off.", "%w", err)
		}
		hooks = append(hooks, h)
	}
	var clientTLS *tls.Config
	if opts.CAFile != "" || opts.Insecure {
		clientTLS = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: opts.Insecure}
		if opts.CAFile != "" {
			pem, err := os.ReadFile(opts.CAFile)
			if err != nil {
				return usageError("Give the PEM file of the server's certificate, e.g. mailx serve's DATA/tls/cert.pem.", "--ca: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return usageError("The file must hold PEM certificates (-----BEGIN CERTIFICATE-----).", "--ca %s holds no certificate", opts.CAFile)
			}
			clientTLS.RootCAs = pool
		}
	}
	ws, err := web.New(web.Config{
		IMAP:       web.Endpoint{Addr: opts.IMAP, TLS: opts.IMAPTLS},
		Submission: web.Endpoint{Addr: opts.SMTP, TLS: opts.SMTPTLS},
		ClientTLS:  clientTLS,
		Domain:     opts.Domain,
		Trace:      joinHooks(hooks),
		BridgeOff:  opts.NoBridge,
	})
	if err != nil {
		return failure("", "%w", err)
	}
	l, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return failure("Is another server (or another mailx web or mailx serve --web) using that port? Choose another with --listen HOST:PORT.",
			"cannot listen on %s: %v", opts.Listen, errors.Unwrap(err))
	}
	url := "http://" + reachable(l.Addr().String())
	if serverTLS != nil {
		l = tls.NewListener(l, serverTLS)
		url = "https://" + reachable(l.Addr().String())
	}
	if r.JSONMode() {
		r.JSON(webReport{Event: "started", URL: url, IMAP: opts.IMAP, Submission: opts.SMTP, Transcripts: dir})
	} else {
		r.Heading("mailx web: web mail for " + opts.IMAP + " (IMAP) and " + opts.SMTP + " (submission)")
		r.Field("open", url+"   in your browser")
		r.Field("api", url+"/api/v1/folders   (curl -u USER:PASSWORD)")
		if dir != "" {
			r.Field("transcripts", dir)
		}
		hint := "Ctrl-C stops it."
		if !opts.Trace {
			hint += " Restart with --trace to watch every bridged line here."
		}
		r.Note(note.Note{Summary: hint, Next: "log in with a mail account of that server (mailx serve: alice / hungry)"})
	}
	if opts.ready != nil {
		opts.ready(l.Addr().String())
	}
	done := make(chan error, 1)
	go func() { done <- ws.Serve(l) }()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-done:
		if err != nil {
			return failure("", "web server stopped: %w", err)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws.Shutdown(sctx)
	if !opts.JSON {
		r.Success("stopped")
	}
	return nil
}

// webTrace prints the bridge's lines as mailx serve --trace prints a
// session's, "[w1] C: ..." and "[w1] S: ...", with the notes the bridge
// attached to each (it explains every line in its own session's state).
func webTrace(r *render.Renderer) transcript.Hook {
	var mu sync.Mutex
	return func(ev transcript.Event) {
		mu.Lock()
		defer mu.Unlock()
		sr := r.WithPrefix("[" + ev.Session + "] ")
		switch ev.Dir {
		case transcript.Meta:
			sr.Text("# " + ev.Line)
		case transcript.Client:
			sr.Sent(ev.Line)
		default:
			sr.Received(ev.Line, lineTone(ev.Proto, ev.Line))
		}
		for _, n := range ev.Notes {
			sr.Note(n)
		}
	}
}

func joinHooks(hs []transcript.Hook) transcript.Hook {
	if len(hs) == 0 {
		return nil
	}
	return func(ev transcript.Event) {
		for _, h := range hs {
			h(ev)
		}
	}
}

func isLoopbackName(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
