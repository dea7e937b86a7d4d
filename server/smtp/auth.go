package smtp

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-sasl"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/access"
)

// authAllowed reports whether AUTH may be used now: over TLS, or from
// loopback, where the password never crosses a network (RFC 4954 §4 asks
// for a protected channel).
func (s *session) authAllowed() bool { return s.tls != nil || s.local }

var errBadCredentials = errors.New("wrong user name or password")

// auth runs AUTH PLAIN (RFC 4616, with go-sasl's server) or AUTH LOGIN (the
// de-facto mechanism of draft-murchison-sasl-login, which go-sasl no longer
// serves, so its two prompts are here).
func (s *session) auth(arg string) smtp.Reply {
	if r := s.authRefused(); r != nil {
		return *r
	}
	mech, ir, hasIR := strings.Cut(arg, " ")
	if mech == "" {
		return smtp.SyntaxError("Syntax: AUTH <mechanism> [initial-response], e.g. AUTH PLAIN")
	}
	m := strings.ToUpper(mech)
	if m != sasl.Plain && m != sasl.Login {
		// Before the initial response is looked at: an unknown mechanism's
		// data need not be base64 of anything we know (RFC 4954 §4: 504).
		return smtp.AuthMechanismUnknown(mech)
	}
	var initial []byte
	if hasIR {
		b, r := decodeAuth(strings.TrimSpace(ir))
		if r != nil {
			return *r
		}
		initial = b
	}
	a := &authAttempt{s: s}
	var r *smtp.Reply
	var err error
	if m == sasl.Plain {
		r, err = s.authPlain(a, initial)
	} else {
		r, err = s.authLogin(a, initial, hasIR)
	}
	if r != nil {
		return *r
	}
	return s.authResult(a, err)
}

// authRefused refuses AUTH before any exchange: the session is
// authenticated already, not protected, or its address is blocked for
// failing too often.
func (s *session) authRefused() *smtp.Reply {
	var r smtp.Reply
	if s.authUser != "" {
		r = smtp.AlreadyAuthenticated()
	} else if !s.authAllowed() {
		r = smtp.EncryptionRequired()
	} else if blocked, wait := s.srv.cfg.Throttle.Blocked(s.client); blocked {
		s.trace(transcript.Meta, fmt.Sprintf("AUTH refused: too many failed logins from %s", s.client))
		r = smtp.AuthBlocked(wait)
	} else {
		return nil
	}
	return &r
}

// authAttempt is what one AUTH exchange's password check found.
type authAttempt struct {
	s       *session
	user    string // the user name the client gave
	checked bool   // a password was checked
	verdict access.Verdict
}

// check checks a user name and password through the login throttle.
func (a *authAttempt) check(name, password string) error {
	a.user, a.checked = name, true
	dir := a.s.srv.cfg.Directory
	a.verdict = a.s.srv.cfg.Throttle.Check(a.s.client, a.s.account(name), func() bool { return dir.Authenticate(name, password) })
	if !a.verdict.OK {
		return errBadCredentials
	}
	return nil
}

// account is the account a user name at AUTH names: the name in lower
// case, or the user an address of a local domain belongs to.
func (s *session) account(name string) string {
	account := strings.ToLower(name)
	if strings.Contains(account, "@") {
		if u, ok := s.srv.cfg.Directory.Resolve(account); ok {
			account = u
		}
	}
	return account
}

// authPlain runs the PLAIN exchange with go-sasl's server. A reply means
// the exchange ended without a password check (cancelled, malformed).
func (s *session) authPlain(a *authAttempt, initial []byte) (*smtp.Reply, error) {
	srv := sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && !strings.EqualFold(identity, username) {
			a.user = username
			return errBadCredentials
		}
		return a.check(username, password)
	})
	resp := initial
	for {
		challenge, done, err := srv.Next(resp)
		if err != nil || done {
			return nil, err
		}
		b, r := s.challenge(base64.StdEncoding.EncodeToString(challenge))
		if r != nil {
			return r, nil
		}
		resp = b
	}
}

// authLogin runs the LOGIN exchange: "Username:" unless the initial
// response gave it, then "Password:".
func (s *session) authLogin(a *authAttempt, initial []byte, hasIR bool) (*smtp.Reply, error) {
	name := initial
	if !hasIR {
		b, r := s.challenge(base64.StdEncoding.EncodeToString([]byte("Username:")))
		if r != nil {
			return r, nil
		}
		name = b
	}
	pass, r := s.challenge(base64.StdEncoding.EncodeToString([]byte("Password:")))
	if r != nil {
		return r, nil
	}
	return nil, a.check(string(name), string(pass))
}

// authResult answers the end of an exchange: 235 and the session is
// authenticated, or the refusal.
func (s *session) authResult(a *authAttempt, err error) smtp.Reply {
	if a.verdict.Blocked {
		s.trace(transcript.Meta, "AUTH refused without checking the password: "+a.verdict.Message())
		return smtp.AuthBlockedFor(a.verdict.Account, a.verdict.Wait)
	}
	if err != nil {
		return s.authFailed(a.user, err, a.checked, a.verdict.Delay)
	}
	name := s.account(a.user)
	s.authUser = name
	s.trace(transcript.Meta, "authenticated as "+name)
	s.srv.log.Info("auth ok", "session", s.id, "user", name)
	return smtp.AuthOK()
}

// authFailed delays the 535 longer for each recent failure from this
// address, which makes guessing passwords slow across sessions.
func (s *session) authFailed(user string, err error, checked bool, delay time.Duration) smtp.Reply {
	if !checked {
		// A malformed exchange checked no password, but counts.
		delay = s.srv.cfg.Throttle.Fail(s.client)
	}
	s.trace(transcript.Meta, fmt.Sprintf("AUTH failed for %q (%v); answering after %s to slow down guessing", user, err, delay))
	s.srv.log.Warn("auth failed", "session", s.id, "user", user, "client", s.client.String(), "delay", delay)
	time.Sleep(delay)
	if errors.Is(err, errBadCredentials) {
		return smtp.AuthFailed()
	}
	return smtp.SyntaxError("Authentication exchange malformed: " + err.Error())
}

// challenge sends a 334 continuation and reads the client's answer, which
// the trace shows without the credentials.
func (s *session) challenge(b64 string) ([]byte, *smtp.Reply) {
	if err := s.send(smtp.AuthChallenge(b64)); err != nil {
		r := smtp.Reply{}
		return nil, &r
	}
	lim := s.srv.limits
	s.setReadDeadline(lim.Idle)
	raw, long, _, err := s.in.readRaw(lim.AuthLine)
	if err != nil {
		r := smtp.Timeout(s.srv.cfg.Hostname)
		return nil, &r
	}
	line := strings.TrimRight(string(raw), "\r\n")
	if line == "*" {
		s.trace(transcript.Client, "*")
		r := smtp.AuthCancelled()
		return nil, &r
	}
	s.trace(transcript.Client, "<base64 credentials hidden from the trace>")
	if long {
		r := smtp.LineTooLong("AUTH response", lim.AuthLine)
		return nil, &r
	}
	return decodeAuth(line)
}

func decodeAuth(s string) ([]byte, *smtp.Reply) {
	if s == "=" {
		return []byte{}, nil // RFC 4954 §4: "=" is an empty initial response
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		r := smtp.NewReply(501, "5.5.2", "The AUTH data is not valid base64")
		return nil, &r
	}
	return b, nil
}

// redactAuth hides the credentials of "AUTH PLAIN <base64>" in the trace
// and in transcripts on disk: base64 is an encoding, not encryption.
func redactAuth(line string) string {
	f := strings.Fields(line)
	if len(f) >= 3 {
		return f[0] + " " + f[1] + " <base64 credentials hidden from the trace>"
	}
	return line
}
