package explore

import (
	"fmt"
	"strings"
)

// ProtocolError reports a server whose answer the protocol's reader cannot
// read: a line that is not SMTP, POP3 or IMAP, or a response past the
// limits. Right after connecting it almost always means the wrong port (a
// POP3 server asked for SMTP), which is what Explain tells the student.
type ProtocolError struct {
	Proto    string // "smtp", "pop3", "imap"
	Addr     string // host:port
	Greeting bool   // the first response could not be read
	Err      error
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("%s from %s: %v", e.Proto, e.Addr, e.Err)
}

// Unwrap returns the reader's error.
func (e *ProtocolError) Unwrap() error { return e.Err }

// wellKnownPorts says where each protocol is usually found, for the hint.
var wellKnownPorts = map[string]string{
	"smtp": "SMTP listens on port 25, 587 for submission, 465 with --tls (mailx serve: 2525 and 2587)",
	"pop3": "POP3 listens on port 110, or 995 with --tls (mailx serve: 1100)",
	"imap": "IMAP listens on port 143, or 993 with --tls (mailx serve: 1430)",
}

// Explain returns a one-line message and a hint for the student.
func (e *ProtocolError) Explain() (msg, hint string) {
	name := strings.ToUpper(e.Proto)
	if e.Greeting {
		return fmt.Sprintf("%s greeted with something that is not %s: %v", e.Addr, name, e.Err),
			"Check the port: " + wellKnownPorts[e.Proto] + "."
	}
	return fmt.Sprintf("%s sent a response mailx cannot read as %s: %v", e.Addr, name, e.Err),
		"The lines above show what arrived; the server may be broken, or not a " + name + " server."
}
