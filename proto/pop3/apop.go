package pop3

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
)

// Timestamp finds the APOP timestamp in a server greeting: the first
// "<...>" containing an "@", in the form of an RFC 5322 msg-id, for example
// "<1896.697170952@dbc.mtview.ca.us>" (RFC 1939 §7). ok is false when the
// greeting has none, which means the server does not offer APOP.
func Timestamp(greeting string) (ts string, ok bool) {
	for s := greeting; ; {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return "", false
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			return "", false
		}
		cand := s[i : i+j+1]
		if strings.Contains(cand, "@") && !strings.ContainsAny(cand[1:len(cand)-1], "<> \t") {
			return cand, true
		}
		s = s[i+1:]
	}
}

// APOPDigest returns the digest to send with APOP: the MD5 of the greeting's
// timestamp (angle brackets included) followed by the shared secret, as 32
// lower-case hex digits (RFC 1939 §7). With the RFC's example timestamp
// "<1896.697170952@dbc.mtview.ca.us>" and secret "tanstaaf" it gives
// "c4c9334bac560ecc979e58001b3e22fb".
//
// MD5 is broken for collision resistance, and APOP still lets anyone who
// records the session run a dictionary attack on the secret: the explorer
// says so. It is here because the protocol defines it.
func APOPDigest(timestamp, secret string) string {
	sum := md5.Sum([]byte(timestamp + secret))
	return hex.EncodeToString(sum[:])
}
