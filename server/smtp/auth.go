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
	if s.authUser != "" {
		return smtp.AlreadyAuthenticated()
	}
	if !s.authAllowed() {
		return smtp.EncryptionRequired()
	}
	if blocked, wait := s.srv.cfg.Throttle.Blocked(s.client); blocked {
		s.trace(transcript.Meta, fmt.Sprintf("AUTH refused: too many failed logins from %s", s.client))
		return smtp.AuthBlocked(wait)
	}
	mech, ir, hasIR := strings.Cut(arg, " ")
	if mech == "" {
		return smtp.SyntaxError("Syntax: AUTH <mechanism> [initial-response], e.g. AUTH PLAIN")
	}
	if m := strings.ToUpper(mech); m != sasl.Plain && m != sasl.Login {
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
	var user string
	var verdict access.Verdict
	checked := false
	check := func(name, password string) error {
		user = name
		account := strings.ToLower(name)
		if strings.Contains(account, "@") {
			if u, ok := s.srv.cfg.Directory.Resolve(account); ok {
				account = u
			}
		}
		checked = true
		verdict = s.srv.cfg.Throttle.Check(s.client, account, func() bool { return s.srv.cfg.Directory.Authenticate(name, password) })
		if !verdict.OK {
			return errBadCredentials
		}
		return nil
	}
	var err error
	switch strings.ToUpper(mech) {
	case sasl.Plain:
		srv := sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && !strings.EqualFold(identity, username) {
				user = username
				return errBadCredentials
			}
			return check(username, password)
		})
		resp := initial
		for {
			challenge, done, nerr := srv.Next(resp)
			if nerr != nil || done {
				err = nerr
				break
			}
			b, r := s.challenge(base64.StdEncoding.EncodeToString(challenge))
			if r != nil {
				return *r
			}
			resp = b
		}
	case sasl.Login:
		name := initial
		if !hasIR {
			b, r := s.challenge(base64.StdEncoding.EncodeToString([]byte("Username:")))
			if r != nil {
				return *r
			}
			name = b
		}
		pass, r := s.challenge(base64.StdEncoding.EncodeToString([]byte("Password:")))
		if r != nil {
			return *r
		}
		err = check(string(name), string(pass))
	default:
		return smtp.AuthMechanismUnknown(mech)
	}
	if verdict.Blocked {
		s.trace(transcript.Meta, "AUTH refused without checking the password: "+verdict.Message())
		return smtp.AuthBlockedFor(verdict.Account, verdict.Wait)
	}
	if err != nil {
		return s.authFailed(user, err, checked, verdict.Delay)
	}
	name := strings.ToLower(user)
	if strings.Contains(name, "@") {
		if u, ok := s.srv.cfg.Directory.Resolve(name); ok {
			name = u
		}
	}
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
	raw, long, _, err := s.readRaw(lim.AuthLine)
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
