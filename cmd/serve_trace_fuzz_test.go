package cmd

import (
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// FuzzTraceRenderer feeds the --trace renderer arbitrary session lines. It
// runs inside mailx serve on what clients send (commands, literals, AUTH
// answers), so no line, in any order and protocol, may make it panic or
// lose track of its sessions. Each input line is "PD text": P picks the
// protocol (s smtp, p pop3, i imap, d dns), D the direction (C, S or #).
// The POP3, IMAP and DNS annotators of this package are also run bare, so
// that a panic in them fails here instead of being caught by the
// renderer's guard (which keeps serve up when a proto explainer fails).
func FuzzTraceRenderer(f *testing.F) {
	for _, seed := range []string{
		"sS 220 mailx.test ESMTP\nsC EHLO x\nsS 250-mailx.test\nsS 250 HELP\nsC DATA\nsS 354 go\nsC .\nsS 250 ok\ns# closed",
		"pS +OK ready\npC USER alice\npS +OK\npC PASS x\npS +OK\npC RETR 1\npS +OK 3 octets\npS a\npS .\npC AUTH PLAIN\npS + \npC AAAA",
		"iS * OK [CAPABILITY IMAP4rev1] ready\niC a1 LOGIN a b\niS a1 OK\niC a2 FETCH 1 BODY[]\niS * 1 FETCH (BODY[] {5}\niS abc\niS )\niS a2 OK",
		"iC a APPEND INBOX {10}\niS + go\niC 0123456789\niC \niS a OK\niS * 1 FETCH (BODY[] {0}\niS )\niS * 2 FETCH (BODY[] {99999}\ni# (99999 octets of literal data not shown)\niS )",
		"iS * PREAUTH hi\niC x IDLE\niS + idling\niS * 3 EXISTS\niC DONE\niS x OK\niS {18446744073709551615}\niS * 1 FETCH {-1}",
		"dC MX? hamburger.test (from 127.0.0.1:1)\ndS NOERROR | hamburger.test. 300 IN MX 10 mx.hamburger.test.\ndC ?\ndS NOERROR | x\ndS NXDOMAIN\ndS NOERROR | (no records of that type)",
	} {
		f.Add(seed)
	}
	protos := map[byte]string{'s': "smtp", 'p': "pop3", 'i': "imap", 'd': "dns"}
	f.Fuzz(func(t *testing.T, in string) {
		var b strings.Builder
		tr := newTraceRenderer(render.New(&b, render.Options{}))
		bare := map[string]lineAnnotator{"pop3": &pop3Trace{}, "imap": &imapTrace{}, "dns": &dnsTrace{}}
		for _, line := range strings.Split(in, "\n") {
			if len(line) < 2 {
				continue
			}
			proto, ok := protos[line[0]]
			if !ok {
				proto = "smtp"
			}
			var dir transcript.Dir
			switch line[1] {
			case 'C':
				dir = transcript.Client
			case 'S':
				dir = transcript.Server
			default:
				dir = transcript.Meta
			}
			text := strings.TrimPrefix(line[2:], " ")
			if a := bare[proto]; a != nil {
				switch dir {
				case transcript.Client:
					a.Client(text)
				case transcript.Server:
					a.Server(text)
				default:
					if m, ok := a.(interface{ Meta(string) }); ok {
						m.Meta(text)
					}
				}
			}
			tr.hook(transcript.Event{Session: proto, Proto: proto, Dir: dir, Line: text})
		}
		if len(tr.sessions) > len(protos) {
			t.Errorf("%d sessions tracked for at most %d session ids", len(tr.sessions), len(protos))
		}
	})
}
