package smtp

import (
	"fmt"
	"net/netip"
	"strings"

	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// XCLIENT is Postfix's SMTP extension for testing access rules and for
// proxies (Postfix XCLIENT_README): a trusted client announces another
// client's address and name, and the server then treats the session as
// coming from that client: for SPF, DNS blocklists, relay permission,
// Received: and the trace.
//
//	C: XCLIENT ADDR=203.0.113.66 NAME=mx.spammer.test
//	S: 220 mx.hamburger.test ESMTP mailx
//	C: EHLO mx.spammer.test
//
// In a lab on one machine everything arrives from 127.0.0.1, so the lab's
// relay clients announce their domain's lab address this way, and
// `mailx smtp talk --as` lets a student play a spammer. Since it lets a
// client choose who it is, the server accepts it only from loopback and
// the networks in XClientNets (--trusted-net), judged by the real TCP peer.

// xclientAttrs are the attributes mailx accepts; LOGIN is refused, since it
// would bypass authentication.
var xclientAttrs = map[string]bool{"ADDR": true, "NAME": true, "HELO": true, "PROTO": true, "PORT": true,
	"DESTADDR": true, "DESTPORT": true, "REVERSE_NAME": true}

// sessionExt is the session's XCLIENT state.
type sessionExt struct {
	peer    netip.Addr // the real TCP peer, kept once XCLIENT changed client
	changed bool
	name    string // XCLIENT NAME
}

// realPeer is the TCP peer, whatever XCLIENT said.
func (s *session) realPeer() netip.Addr {
	if s.ext.changed {
		return s.ext.peer
	}
	return s.client
}

// xclientAllowed reports whether the real peer may use XCLIENT.
func (s *session) xclientAllowed() bool {
	p := s.realPeer()
	if p.IsLoopback() {
		return true
	}
	for _, n := range s.srv.cfg.XClientNets {
		if n.Contains(p) {
			return true
		}
	}
	return false
}

// xclientAdvert is the EHLO keyword, for clients allowed to use it.
func (s *session) xclientAdvert() []string {
	if !s.xclientAllowed() {
		return nil
	}
	return []string{"XCLIENT ADDR NAME HELO PROTO"}
}

func (s *session) xclient(arg string) smtp.Reply {
	if !s.xclientAllowed() {
		return smtp.NewReply(550, "5.7.0", "XCLIENT: insufficient authorization: only loopback and --trusted-net clients may use it")
	}
	if arg == "" {
		return smtp.SyntaxError("Syntax: XCLIENT ADDR=203.0.113.66 [NAME=host.example] [HELO=host.example]")
	}
	addr, name, helo := s.client, s.ext.name, ""
	for _, kv := range strings.Fields(arg) {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.ToUpper(k)
		if !ok || !xclientAttrs[k] {
			if k == "LOGIN" {
				return smtp.NewReply(501, "5.5.4", "XCLIENT LOGIN is not supported by mailx: authenticate with AUTH")
			}
			return smtp.NewReply(501, "5.5.4", fmt.Sprintf("XCLIENT: bad attribute %q: mailx knows ADDR, NAME, HELO, PROTO", kv))
		}
		v, err := xtextDecode(v)
		if err != nil {
			return smtp.NewReply(501, "5.5.4", fmt.Sprintf("XCLIENT %s: %v", k, err))
		}
		unavailable := strings.EqualFold(v, "[UNAVAILABLE]") || strings.EqualFold(v, "[TEMPUNAVAIL]")
		switch k {
		case "ADDR":
			if unavailable {
				continue
			}
			a, err := netip.ParseAddr(strings.TrimPrefix(strings.TrimPrefix(v, "IPV6:"), "ipv6:"))
			if err != nil {
				return smtp.NewReply(501, "5.5.4", fmt.Sprintf("XCLIENT ADDR: %q is not an IP address", v))
			}
			addr = a.Unmap()
		case "NAME":
			if unavailable {
				name = ""
				continue
			}
			name = strings.ToLower(v)
		case "HELO":
			if !unavailable {
				helo = v
			}
		}
	}
	if !s.ext.changed {
		s.ext.peer, s.ext.changed = s.client, true
	}
	s.client, s.ext.name = addr, name
	s.resetTxn()
	s.helo, s.esmtp, s.authUser = helo, false, ""
	s.trace(transcript.Meta, fmt.Sprintf("XCLIENT from %s: this session now counts as coming from %s%s, for SPF, blocklists, relay permission and Received:; the client must say EHLO again",
		s.ext.peer, addr, nameSuffix(name)))
	return smtp.Greeting(s.srv.cfg.Hostname)
}

func nameSuffix(n string) string {
	if n == "" {
		return ""
	}
	return " (" + n + ")"
}

// xtextDecode decodes RFC 3461 §4 xtext ("+2B" for "+").
func xtextDecode(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '+' {
			if c < '!' || c > '~' || c == '=' {
				return "", fmt.Errorf("character %q not allowed in xtext", c)
			}
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("truncated +XX escape")
		}
		var v byte
		if _, err := fmt.Sscanf(s[i+1:i+3], "%02X", &v); err != nil {
			return "", fmt.Errorf("bad +XX escape %q", s[i:i+3])
		}
		b.WriteByte(v)
		i += 2
	}
	return b.String(), nil
}
