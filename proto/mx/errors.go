package mx

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// The kinds of lookup failure. Every error Lookup returns is an *Error whose
// Kind is one of these, so callers write errors.Is(err, mx.ErrNXDomain).
var (
	// ErrMalformed: the domain given is not a valid mail domain. A usage
	// error: asking again will not help.
	ErrMalformed = errors.New("malformed domain name")
	// ErrNXDomain: the name server says the domain does not exist (RCODE 3).
	// RFC 5321 §5.1: "this situation MUST be reported as an error".
	ErrNXDomain = errors.New("no such domain (NXDOMAIN)")
	// ErrNoMailHost: the domain exists but has neither MX nor A/AAAA records,
	// or its MX hosts are unusable, so mail for it cannot be delivered.
	ErrNoMailHost = errors.New("no mail host")
	// ErrServerFailure: the server answered SERVFAIL (RCODE 2): it could not
	// get an answer itself. Temporary: an MTA queues the message and retries.
	ErrServerFailure = errors.New("server failure (SERVFAIL)")
	// ErrRefused: the server answered REFUSED (RCODE 5): it will not answer
	// this client or this zone.
	ErrRefused = errors.New("query refused (REFUSED)")
	// ErrTimeout: no answer within the timeout, after every attempt.
	ErrTimeout = errors.New("timeout")
	// ErrUnreachable: the server could not be reached at all (connection
	// refused, network unreachable, name of the server not found).
	ErrUnreachable = errors.New("server unreachable")
	// ErrBadResponse: the server answered something unusable: another error
	// RCODE (FORMERR, NOTIMP), or a reply to a different question.
	ErrBadResponse = errors.New("unusable response")
	// ErrNoResolver: no server was given and the system names none: its
	// resolver configuration (/etc/resolv.conf) could not be read or lists no
	// server, or no connected Windows network adapter has one.
	ErrNoResolver = errors.New("no DNS server configured")
)

// Error is a failed lookup: which kind of failure, for which name, at which
// server, and the underlying cause. Its message says what happened and Hint
// says what to try.
type Error struct {
	Kind     error         // one of the Err* sentinels above
	Name     string        // the domain or host asked about, as given or as asked
	Server   string        // host:port of the server involved; "" if none was reached
	Detail   string        // what exactly happened, in words
	Attempts int           // for ErrTimeout: how many times the question was sent
	Timeout  time.Duration // for ErrTimeout: how long each attempt waited
	Err      error         // the cause (a net.Error, an I/O error), may be nil
	// Transport is "udp" or "tcp" when the failure happened on one: the
	// hint for a timeout then does not suggest the one already used.
	Transport string
	// Loopback is set for REFUSED from a server on this machine (127.0.0.0/8
	// or ::1): in a course that is the lab DNS, which answers only for its
	// own lab domains, so the hint is about the name, not about resolvers.
	Loopback bool
}

// LabDomainsHint is filled in by programs that know the lab's domains
// (mailx's cmd sets it from the lab's defaults) and named in the hint for
// REFUSED from a loopback DNS server, e.g. "crepes.test, hamburger.test".
var LabDomainsHint string

// Error returns one line, lower case: what happened.
func (e *Error) Error() string {
	switch e.Kind {
	case ErrMalformed:
		return "invalid domain: " + e.Detail
	case ErrNXDomain:
		return fmt.Sprintf("%s does not exist: %s answered NXDOMAIN", e.Name, e.Server)
	case ErrNoMailHost:
		return fmt.Sprintf("no mail host for %s: %s", e.Name, e.Detail)
	case ErrServerFailure:
		return fmt.Sprintf("lookup of %s failed: %s answered SERVFAIL (server failure)", e.Name, e.Server)
	case ErrRefused:
		return fmt.Sprintf("lookup of %s failed: %s answered REFUSED", e.Name, e.Server)
	case ErrTimeout:
		return fmt.Sprintf("no answer from %s for %s after %s (%s each)", e.Server, e.Name, plural(e.Attempts, "attempt"), e.Timeout)
	case ErrUnreachable:
		return fmt.Sprintf("cannot reach DNS server %s: %s", e.Server, causeText(e.Err))
	case ErrBadResponse:
		return fmt.Sprintf("lookup of %s failed: %s %s", e.Name, e.Server, e.Detail)
	case ErrNoResolver:
		return "no DNS server to ask: " + e.Detail
	}
	return fmt.Sprintf("lookup of %s failed: %v", e.Name, e.Err)
}

// Hint says what to try next, in one or two sentences.
func (e *Error) Hint() string {
	switch e.Kind {
	case ErrMalformed:
		return "Give a domain such as example.com: letters, digits and hyphens in labels separated by dots."
	case ErrNXDomain:
		return "Check the spelling. NXDOMAIN means the name does not exist at all; a new domain may not be delegated yet."
	case ErrNoMailHost:
		return "RFC 5321 §5.1: with no usable MX or address record there is nowhere to deliver; check the name or the zone."
	case ErrServerFailure:
		return "The server could not get an answer (often a broken delegation or DNSSEC). Try again later, or ask another server with --server."
	case ErrRefused:
		if e.Loopback {
			h := "That server runs on this machine: the lab DNS of mailx serve --lab answers only for its lab domains"
			if LabDomainsHint != "" {
				h += " (" + LabDomainsHint + ")"
			}
			return h + ", and refuses any other name. Check the spelling of the domain, or ask a recursive resolver for a real one."
		}
		return "That server does not answer this question for you: use a recursive resolver you may use, or the zone's own server, with --server."
	case ErrTimeout:
		if e.Transport == "tcp" {
			return "Is a DNS server running there? Check the address and port (over TCP too: some servers answer only UDP, so try without --tcp), or raise --timeout and --retries."
		}
		return "Is a DNS server running there? Check the address and port, try --tcp, or raise --timeout and --retries."
	case ErrUnreachable:
		return "Is a DNS server listening there? Check the address and port given to --server (the default port is 53)."
	case ErrBadResponse:
		return "The server's answer cannot be used; try another server with --server."
	case ErrNoResolver:
		return "Name a DNS server with --server, for example --server 1.1.1.1, or your network's resolver."
	}
	return ""
}

// Temporary reports whether the failure may go away by itself, so that an MTA
// queues the message and retries later instead of bouncing it (RFC 5321 §5.1:
// "If a temporary error is returned, the message MUST be queued and retried").
func (e *Error) Temporary() bool {
	switch e.Kind {
	case ErrServerFailure, ErrTimeout, ErrUnreachable, ErrRefused, ErrBadResponse, ErrNoResolver:
		return true
	}
	return false
}

// Unwrap lets errors.Is match both the Kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// causeText shortens a network error to its last, human part: "dial udp
// 127.0.0.1:9: connect: connection refused" becomes "connection refused".
func causeText(err error) string {
	if err == nil {
		return "unknown error"
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
