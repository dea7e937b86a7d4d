package pop3

import (
	"bytes"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-sasl"

	p3 "github.com/mailx-edu/mailx/proto/pop3"
	"github.com/mailx-edu/mailx/server/access"
)

// clearTextOK says whether a password may be sent in clear now: over TLS, or
// over loopback where nobody can listen (the telnet lab).
func (ss *session) clearTextOK() bool { return ss.tls || ss.trust }

// refuseClearText is the reply to USER, PASS or AUTH on an untrusted
// connection without TLS (RFC 2595 §2.1, RFC 3206 [AUTH]).
func (ss *session) refuseClearText() p3.Response {
	hint := "this server offers no STLS here: connect to the POP3S port instead"
	if ss.s.cfg.TLS != nil {
		hint = "send STLS first to encrypt the connection"
	}
	return p3.ErrCode("AUTH", "a password may not be sent in clear over this connection; "+hint)
}

func (ss *session) cmdUser(args []string) (p3.Response, bool) {
	if !ss.clearTextOK() {
		return ss.refuseClearText(), true
	}
	ss.user = args[0]
	return p3.OK(fmt.Sprintf("send PASS with %s's password", args[0])), true
}

func (ss *session) cmdPass(args []string) (p3.Response, bool) {
	if !ss.clearTextOK() {
		return ss.refuseClearText(), true
	}
	if ss.user == "" {
		c, _ := p3.Lookup("PASS")
		return p3.SyntaxError(c, "send USER name first"), true
	}
	name := ss.user
	ss.user = ""
	return ss.login(name, func(user string) bool { return ss.s.cfg.Accounts.Authenticate(name, args[0]) }), true
}

// login checks credentials with throttling and opens the maildrop. check is
// given the resolved user name.
func (ss *session) login(name string, check func(user string) bool) p3.Response {
	user := access.UserOf(ss.s.cfg.Accounts, name)
	account := user
	if account == "" {
		account = name
	}
	v := ss.s.cfg.Throttle.Check(ss.ip, account, func() bool { return user != "" && check(user) })
	switch {
	case v.Blocked:
		ss.trace.Meta("login refused without checking the password: %s", v.Message())
		return p3.ErrCode("SYS/TEMP", v.Message())
	case !v.OK:
		ss.trace.Meta("login failed for %q; answering after %s", name, v.Delay)
		time.Sleep(v.Delay)
		return p3.ErrCode("AUTH", "wrong user name or password")
	}
	return ss.open(user)
}

func (ss *session) cmdAPOP(args []string) (p3.Response, bool) {
	if ss.apopStamp == "" {
		return p3.Err("APOP is not offered: it needs the password stored in clear on the server, and mailx keeps only bcrypt hashes; use USER/PASS (after STLS) or AUTH PLAIN"), true
	}
	name, digest := args[0], strings.ToLower(args[1])
	return ss.login(name, func(user string) bool {
		secret, ok := ss.s.cfg.APOPSecret(user)
		want := p3.APOPDigest(ss.apopStamp, secret)
		return subtle.ConstantTimeCompare([]byte(want), []byte(digest)) == 1 && ok
	}), true
}

// cmdAuth runs RFC 5034 AUTH with the PLAIN mechanism (RFC 4616) through
// go-sasl. Without an argument it lists the mechanisms.
func (ss *session) cmdAuth(args []string) (p3.Response, bool) {
	if len(args) == 0 {
		if !ss.clearTextOK() {
			return p3.OKMulti("SASL mechanisms follow (none without TLS)", nil), true
		}
		return p3.OKMulti("SASL mechanisms follow", []string{"PLAIN"}), true
	}
	if !strings.EqualFold(args[0], "PLAIN") {
		return p3.Err(fmt.Sprintf("SASL mechanism %q is not supported; use AUTH PLAIN", args[0])), true
	}
	if !ss.clearTextOK() {
		return ss.refuseClearText(), true
	}
	var result p3.Response
	srv := sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			result = p3.ErrCode("AUTH", "logging in as another user (authorization identity) is not supported")
			return fmt.Errorf("identity")
		}
		result = ss.login(username, func(string) bool { return ss.s.cfg.Accounts.Authenticate(username, password) })
		if !result.OK() {
			return fmt.Errorf("failed")
		}
		return nil
	})
	var resp []byte
	if len(args) == 2 {
		if args[1] != "=" {
			b, err := base64.StdEncoding.DecodeString(args[1])
			if err != nil {
				return p3.Err("the initial response is not valid base64"), true
			}
			resp = b
		} else {
			resp = []byte{}
		}
	}
	for {
		challenge, done, err := srv.Next(resp)
		if err != nil {
			if result.Status == p3.StatusErr {
				return result, true
			}
			delay := ss.s.cfg.Throttle.Fail(ss.ip)
			time.Sleep(delay)
			return p3.ErrCode("AUTH", "the PLAIN response must be base64 of authzid NUL user NUL password"), true
		}
		if done {
			return result, true
		}
		if err := ss.reply(p3.Continue(base64.StdEncoding.EncodeToString(challenge))); err != nil {
			return p3.Err(""), true
		}
		ss.inSASL = true
		line, err := ss.readLine()
		ss.inSASL = false
		if err != nil {
			ss.state = p3.Closed
			return p3.Err("connection lost during AUTH"), true
		}
		if line == "*" {
			return p3.Err("AUTH cancelled"), true
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line))
		if err != nil {
			return p3.Err("the response is not valid base64; AUTH cancelled"), true
		}
		resp = bytes.Clone(b)
	}
}

// cmdSTLS upgrades the connection (RFC 2595 §4). Anything the client
// pipelined after STLS is discarded: it was sent in clear and could be an
// injected command (the STARTTLS command injection attack).
func (ss *session) cmdSTLS([]string) (p3.Response, bool) {
	if ss.s.cfg.TLS == nil {
		return p3.Err("STLS is not available on this server"), true
	}
	if ss.tls {
		return p3.Err("the connection is already encrypted"), true
	}
	if err := ss.reply(p3.OK("begin TLS negotiation")); err != nil {
		ss.state = p3.Closed
		return p3.Response{}, false
	}
	if n := ss.br.Buffered(); n > 0 {
		ss.br.Discard(n)
		ss.trace.Meta("discarded %d octets sent in clear after STLS (possible command injection)", n)
	}
	tc := tls.Server(ss.conn, ss.s.cfg.TLS)
	tc.SetDeadline(time.Now().Add(30 * time.Second))
	if err := tc.Handshake(); err != nil {
		ss.trace.Meta("TLS handshake failed: %v", err)
		ss.state = p3.Closed
		return p3.Response{}, false
	}
	tc.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	ss.conn, ss.tls = tc, true
	ss.br.Reset(tc)
	ss.bw.Reset(tc)
	ss.trace.Meta("tls: %s, %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	return p3.Response{}, false
}
