package smtp

import "time"

// Limits bound what one client can make the server do. A zero field takes
// its default; each default is given with its reason.
type Limits struct {
	// CommandLine is the longest command line, CRLF included. RFC 5321
	// §4.5.3.1.4 sets 512 as the minimum a server must accept; extensions
	// (SMTPUTF8 addresses, ESMTP parameters) make lines longer, so 2048.
	// Longer lines get 500 5.5.2.
	CommandLine int
	// AuthLine is the longest line in an AUTH exchange: RFC 4954 §4 asks
	// servers to accept at least 12288 octets.
	AuthLine int
	// TextLine is the longest line of message text, CRLF included: 1000
	// (RFC 5321 §4.5.3.1.6).
	TextLine int
	// Recipients is the most RCPT TO per message: 100, the minimum RFC 5321
	// §4.5.3.1.8 asks a server to accept (more get 452 4.5.3).
	Recipients int
	// MessageSize is the largest message in octets, advertised with SIZE
	// (RFC 1870) and checked at MAIL and at the end of DATA: 10 MiB.
	MessageSize int64
	// Errors is how many failed commands end the session with 421 4.7.0:
	// 20, enough for a student's typos, too few for a dictionary attack.
	Errors int
	// Idle is how long the server waits for the next command: 5 minutes
	// (RFC 5321 §4.5.3.2.7), then 421 4.4.2.
	Idle time.Duration
	// Data is how long the server waits for each line of message text:
	// 3 minutes, the data block timeout of RFC 5321 §4.5.3.2.5.
	Data time.Duration
	// Sessions is the most concurrent sessions in total; more are turned away
	// with 421 4.7.0, so memory and file descriptors stay bounded.
	Sessions int
	// SessionsPerClient is the most concurrent sessions from one client
	// address, so one client cannot take every slot.
	SessionsPerClient int
	// AuthFailDelay is how long a failed AUTH waits before its 535, times
	// the number of recent failures from that address (at most 5): 1 second
	// makes password guessing slow and costs an honest typo little.
	AuthFailDelay time.Duration
	// MinFreeDisk is the free space (octets) the data directory must keep
	// beyond the declared message size, or MAIL gets 452 4.3.1: 50 MiB.
	MinFreeDisk uint64
}

// DefaultLimits returns the defaults described on Limits.
func DefaultLimits() Limits {
	return Limits{
		CommandLine:       2048,
		AuthLine:          12288,
		TextLine:          1000,
		Recipients:        100,
		MessageSize:       10 << 20,
		Errors:            20,
		Idle:              5 * time.Minute,
		Data:              3 * time.Minute,
		Sessions:          1000,
		SessionsPerClient: 100,
		AuthFailDelay:     time.Second,
		MinFreeDisk:       50 << 20,
	}
}

// WithDefaults returns l with every zero field set to its default. A
// negative AuthFailDelay stays: it turns the delay off (tests).
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	orDefault(&l.CommandLine, d.CommandLine)
	if l.AuthLine < l.CommandLine {
		l.AuthLine = max(d.AuthLine, l.CommandLine)
	}
	orDefault(&l.TextLine, d.TextLine)
	orDefault(&l.Recipients, d.Recipients)
	orDefault(&l.MessageSize, d.MessageSize)
	orDefault(&l.Errors, d.Errors)
	orDefault(&l.Idle, d.Idle)
	orDefault(&l.Data, d.Data)
	orDefault(&l.Sessions, d.Sessions)
	orDefault(&l.SessionsPerClient, d.SessionsPerClient)
	if l.AuthFailDelay == 0 {
		l.AuthFailDelay = d.AuthFailDelay
	}
	orDefault(&l.MinFreeDisk, d.MinFreeDisk)
	return l
}

// orDefault sets *v to d when it is zero or less.
func orDefault[T int | int64 | uint64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}
