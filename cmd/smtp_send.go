package cmd

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/explore"
	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/mime"
	"github.com/mailx-edu/mailx/proto/smtp"
)

type smtpSendOptions struct {
	IO       *IOStreams
	Server   string // --server HOST[:PORT]
	Conn     smtpConnFlags
	From     string   // --from
	To       []string // --to, repeatable
	Subject  string   // --subject
	Body     string   // --body
	BodyFile string   // --body-file
	Attach   []string // --attach, repeatable
	Headers  []string // --header 'K: V', repeatable
	Auth     string   // --auth USER:PASS
	Quiet    bool
	JSON     bool
}

// mxFromRecipient is --mx given without a domain: use the first recipient's.
const mxFromRecipient = "@recipient"

const smtpSendLong = `Send one message, swaks-style, and watch the whole SMTP session annotated:
EHLO, optional STARTTLS and AUTH, MAIL FROM, one RCPT TO per --to, DATA, the
message, and QUIT.

The message is a proper RFC 5322 message: Date, From, To, Subject, Message-ID,
MIME-Version; a text/plain body (quoted-printable when it needs it), and
multipart/mixed with base64 parts when --attach is given.

--server HOST[:PORT] names the server (port 25 by default, 465 with --tls; use
587 with --starttls --auth for a submission server). --mx instead looks up the
first recipient's domain and delivers to its best mail exchanger, trying the
next one on failure, as an MTA does (--mx=DOMAIN names the domain).

The exit status is 0 only when the server accepted the message with 250 after
the final "."; the queue id from that reply is printed. It is 1 when the
connection failed or the server refused the sender, every recipient, or the
message; 2 for a bad command line. Recipients refused one by one are reported,
and the message goes to the others.`

func newSMTPSendCmd(ios *IOStreams, runF func(context.Context, *smtpSendOptions) error) *cobra.Command {
	opts := &smtpSendOptions{IO: ios}
	c := &cobra.Command{
		Use:   "send --server HOST[:PORT] --from ADDRESS --to ADDRESS [flags]",
		Short: "Send one message and show the annotated SMTP session",
		Long:  smtpSendLong,
		Example: `  mailx smtp send --server 127.0.0.1:2525 --from alice@mailx.test --to bob@mailx.test --subject Crepes --body 'Do you like them?'
  mailx smtp send --server 127.0.0.1:2525 --from alice@mailx.test --to bob@mailx.test --attach crepe.jpg
  mailx smtp send --server mail.example.edu:587 --starttls --auth alice:secret --from alice@example.edu --to bob@example.org
  mailx smtp send --mx --from me@my.test --to someone@example.org --body 'Hello'`,
		Args: noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if opts.From == "" || len(opts.To) == 0 {
				return usageError("Both are needed: --from ADDRESS is the envelope sender, --to ADDRESS a recipient (repeat it for more).", "--from and --to are required")
			}
			if opts.Server == "" && opts.Conn.MX == "" {
				return usageError("Give --server HOST[:PORT] (for a local server: --server 127.0.0.1:2525), or --mx to deliver to the recipient's mail exchanger.", "missing --server")
			}
			if opts.Server != "" && opts.Conn.MX != "" {
				return usageError("--mx finds the server itself: give either --server or --mx.", "both --server and --mx given")
			}
			if opts.Body != "" && opts.BodyFile != "" {
				return usageError("Give the body either inline or from a file.", "--body and --body-file cannot be combined")
			}
			for i, a := range append([]string{opts.From}, opts.To...) {
				if _, err := mail.ParseAddress(a); err != nil {
					flag := "--to"
					if i == 0 {
						flag = "--from"
					}
					return usageError("Write an address as name@example.org or \"Name <name@example.org>\".", "%s %q is not an e-mail address (%v)", flag, a, err)
				}
			}
			if opts.Auth != "" && !strings.Contains(opts.Auth, ":") {
				return usageError("Write it as USER:PASS, for example --auth alice:secret.", "--auth %q has no colon", opts.Auth)
			}
			for _, h := range opts.Headers {
				if name, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(name, " \t") {
					return usageError("Write a header as 'Name: value', for example --header 'Reply-To: me@my.test'.", "--header %q is not 'Name: value'", h)
				}
			}
			if err := opts.Conn.check(); err != nil {
				return err
			}
			if opts.Conn.MX == mxFromRecipient {
				_, domain, ok := strings.Cut(addrSpec(opts.To[0]), "@")
				if !ok || domain == "" {
					return usageError("Give the domain explicitly: --mx=DOMAIN.", "--mx: %q has no domain", opts.To[0])
				}
				opts.Conn.MX = domain
			}
			if runF == nil {
				runF = runSMTPSend
			}
			return runF(c.Context(), opts)
		},
	}
	opts.Conn.register(c, "deliver to the mail exchanger of the first recipient's domain (or --mx=DOMAIN)")
	c.Flags().Lookup("mx").NoOptDefVal = mxFromRecipient
	fl := c.Flags()
	fl.StringVar(&opts.Server, "server", "", "SMTP server, HOST[:PORT]")
	fl.StringVar(&opts.From, "from", "", "sender address (envelope MAIL FROM and the From: header)")
	fl.StringArrayVar(&opts.To, "to", nil, "recipient address (repeat for more)")
	fl.StringVar(&opts.Subject, "subject", "", "the Subject: header")
	fl.StringVar(&opts.Body, "body", "", "the message text")
	fl.StringVar(&opts.BodyFile, "body-file", "", "read the message text from FILE")
	fl.StringArrayVar(&opts.Attach, "attach", nil, "attach FILE (repeat for more); makes a multipart/mixed message")
	fl.StringArrayVar(&opts.Headers, "header", nil, "add a header 'Name: value' (repeat for more)")
	fl.StringVar(&opts.Auth, "auth", "", "log in with AUTH PLAIN as USER:PASS before sending")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "show the raw session only, without explanations")
	fl.BoolVar(&opts.JSON, "json", false, "print the session as JSON lines, then a result object")
	return c
}

// addrSpec takes the address out of "Name <a@b>" or returns s.
func addrSpec(s string) string {
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	return strings.TrimSpace(s)
}

// buildMessage composes the RFC 5322 message with proto/mime.
func buildMessage(opts *smtpSendOptions) ([]string, error) {
	body := opts.Body
	if opts.BodyFile != "" {
		b, err := os.ReadFile(opts.BodyFile)
		if err != nil {
			return nil, failure("Check the file name.", "cannot read --body-file: %v", err)
		}
		body = string(b)
	}
	m := mime.Message{From: opts.From, To: opts.To, Subject: opts.Subject, Text: body}
	for _, h := range opts.Headers {
		name, value, _ := strings.Cut(h, ":")
		m.Headers = append(m.Headers, mime.Field{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	}
	for _, a := range opts.Attach {
		if _, err := os.Stat(a); err != nil {
			return nil, failure("Check the file name.", "cannot attach %s: %v", a, errors.Unwrap(err))
		}
		m.Attachments = append(m.Attachments, mime.Attachment{Path: a})
	}
	raw, err := mime.Compose(m)
	if err != nil {
		return nil, failure("Check --from, --to and --header.", "cannot build the message: %v", err)
	}
	text := strings.TrimSuffix(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n")
	return strings.Split(text, "\n"), nil
}

func runSMTPSend(ctx context.Context, opts *smtpSendOptions) error {
	r := opts.IO.RendererWith(render.Options{JSON: opts.JSON, Quiet: opts.Quiet, Width: terminalWidth(opts.IO)})
	lines, err := buildMessage(opts)
	if err != nil {
		return err
	}
	conn, err := connectSMTP(ctx, r, &opts.Conn, opts.Server)
	if err != nil {
		return err
	}
	defer conn.Close()
	s := explore.NewSession(conn, explore.Options{
		Protocol:        explore.NewSMTP(),
		Render:          r,
		Input:           &explore.LinesInput{},
		ResponseTimeout: opts.Conn.ResponseTimeout,
		Automatic:       true,
	})
	queueID, err := sendMessage(ctx, s, opts, lines)
	if err != nil {
		if ue, ok := err.(*UserError); ok {
			return ue
		}
		return sessionError(err, conn.Addr(), "smtp")
	}
	if opts.JSON {
		return r.JSON(map[string]any{"accepted": true, "server": conn.Addr(), "queue_id": queueID})
	}
	msg := "the message was accepted by " + conn.Addr()
	if queueID != "" {
		msg += "; queue id " + queueID
	}
	r.Success(msg)
	return nil
}

// sendMessage runs the SMTP transaction and returns the queue id from the
// final 250. It stops at the first failure that makes going on pointless,
// and says so.
func sendMessage(ctx context.Context, s *explore.Session, opts *smtpSendOptions, lines []string) (string, error) {
	resp, err := s.Start(ctx)
	if err != nil {
		return "", err
	}
	if code(resp) != 220 {
		quit(ctx, s)
		return "", failure("The greeting says why; try another server.", "the server refused the session: %s", replyText(resp))
	}
	helo := opts.Conn.helo()
	var exts map[string][]string // the EHLO keywords, upper case
	hello := func() error {
		resp, err := s.Exchange(ctx, "EHLO "+helo)
		if err != nil {
			return err
		}
		if rep, ok := resp.Value.(smtp.Reply); ok && rep.Code == 250 {
			exts = smtp.Extensions(rep)
		}
		if code(resp) == 500 || code(resp) == 502 {
			// RFC 5321 §3.2: an old server without EHLO gets HELO.
			if resp, err = s.Exchange(ctx, "HELO "+helo); err != nil {
				return err
			}
		}
		if code(resp)/100 != 2 {
			quit(ctx, s)
			return failure("Try --helo with a fully qualified name.", "the server refused our greeting: %s", replyText(resp))
		}
		return nil
	}
	if err := hello(); err != nil {
		return "", err
	}
	if opts.Conn.StartTLS {
		if err := s.StartTLS(ctx); err != nil {
			return "", err
		}
		if s.Conn().TLSState == nil {
			quit(ctx, s)
			return "", failure("Without --starttls the message would travel in plain text.", "the server did not start TLS (--starttls)")
		}
		if err := hello(); err != nil {
			return "", err
		}
	}
	if opts.Auth != "" {
		user, pass, _ := strings.Cut(opts.Auth, ":")
		resp, err := explore.SMTPAuthPlain(ctx, s, user, pass)
		if err != nil {
			return "", err
		}
		if code(resp) != 235 {
			quit(ctx, s)
			return "", failure("Check the user name and password; many servers offer AUTH only after STARTTLS (--starttls).", "login failed: %s", replyText(resp))
		}
	}
	mailFrom := "MAIL FROM:<" + addrSpec(opts.From) + ">"
	if needsSMTPUTF8(opts) {
		// RFC 6531 §3.4: a non-ASCII address travels only with SMTPUTF8 on
		// MAIL FROM, and only to a server that offers it.
		if _, ok := exts["SMTPUTF8"]; !ok {
			quit(ctx, s)
			return "", failure("Use an ASCII address (the domain in its xn-- form) or a server that supports SMTPUTF8.",
				"an address is not ASCII, and the server does not offer SMTPUTF8 (RFC 6531)")
		}
		mailFrom += " SMTPUTF8"
	}
	resp, err = s.Exchange(ctx, mailFrom)
	if err != nil {
		return "", err
	}
	if code(resp)/100 != 2 {
		quit(ctx, s)
		return "", failure("The reply above says why; a submission server may want --auth.", "the server refused the sender: %s", replyText(resp))
	}
	accepted := 0
	var refused []string
	for _, to := range opts.To {
		resp, err := s.Exchange(ctx, "RCPT TO:<"+addrSpec(to)+">")
		if err != nil {
			return "", err
		}
		if code(resp)/100 == 2 {
			accepted++
		} else {
			refused = append(refused, addrSpec(to)+" ("+replyText(resp)+")")
		}
	}
	if accepted == 0 {
		quit(ctx, s)
		return "", failure("Relaying to other domains needs --auth on most servers; check the addresses.", "every recipient was refused: %s", strings.Join(refused, "; "))
	}
	resp, err = s.Exchange(ctx, "DATA")
	if err != nil {
		return "", err
	}
	if code(resp) != 354 {
		quit(ctx, s)
		return "", failure("", "the server refused DATA: %s", replyText(resp))
	}
	for _, l := range lines {
		if err := explore.SMTPSendText(ctx, s, l); err != nil {
			return "", err
		}
	}
	resp, err = s.Exchange(ctx, ".")
	if err != nil {
		return "", err
	}
	if code(resp)/100 != 2 {
		quit(ctx, s)
		return "", failure("The reply above says why the message was refused.", "the message was not accepted: %s", replyText(resp))
	}
	id := smtp.QueueID(resp.Value.(smtp.Reply))
	quit(ctx, s)
	if len(refused) > 0 {
		s.Render().Warning(fmt.Sprintf("not sent to: %s", strings.Join(refused, "; ")))
	}
	return id, nil
}

// needsSMTPUTF8 reports whether an envelope address holds non-ASCII text.
func needsSMTPUTF8(opts *smtpSendOptions) bool {
	for _, a := range append([]string{opts.From}, opts.To...) {
		for _, r := range addrSpec(a) {
			if r >= utf8.RuneSelf {
				return true
			}
		}
	}
	return false
}

// quit ends the session politely; its failure changes nothing for the user.
func quit(ctx context.Context, s *explore.Session) {
	if !s.Ended() {
		s.Exchange(ctx, "QUIT")
	}
}

func code(r *explore.Response) int {
	if r == nil {
		return 0
	}
	if rep, ok := r.Value.(smtp.Reply); ok {
		return rep.Code
	}
	return 0
}

func replyText(r *explore.Response) string {
	if rep, ok := r.Value.(smtp.Reply); ok {
		return rep.Error()
	}
	return strings.Join(r.Raw(), " / ")
}
