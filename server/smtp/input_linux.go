package smtp

import (
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Waiting for the client's next line by polling.
//
// When a session has answered and its client is about to send the next
// command, the server has nothing else to do, and the thread that waits
// goes to sleep in the poller: the CPU halts, and the client's octets must
// wake it. On a virtual machine (the development VM is one, and so are
// many classroom and cloud servers) waking a halted virtual CPU goes
// through the host and costs tens of microseconds, several times per
// message (the development VM's kernel does not poll before it halts:
// haltpoll.guest_halt_poll_ns=0). So a session that is the only one open
// polls its socket for a moment (pollInputFor) before it sleeps: its
// client's answer, usually there within that time, is read at once. Side
// by side over one connection: 1 KB messages 8 of 8 pairs faster (median
// +20%), 100 KB ones 8 of 8 (+10%).
//
// Polling takes a CPU, so it is done only when it cannot take one from
// anybody: with two CPUs or more, when the session is the only one open,
// and not while its last message is being copied into the Maildirs on
// another thread; it stops as soon as another session opens. With twenty
// sessions, even polling while all the others waited for their clients
// was slower (6 of 6 pairs, median -8%): their client needs the CPU. A
// connection under TLS, and any connection on other systems, simply waits.

// pollInputFor is how long a waiting session polls before it sleeps: a
// little more than a client on the same machine takes to answer a reply.
const pollInputFor = 60 * time.Microsecond

// newPollingInput returns what a session reads its client's octets from: c
// itself, or a pollingInput over it when c is a TCP connection and the
// machine has two CPUs or more. mayPoll reports whether polling now takes
// a CPU from nobody; polling is the server's flag that one session polls.
func newPollingInput(c net.Conn, mayPoll func() bool, polling *atomic.Bool) io.Reader {
	tc, ok := c.(*net.TCPConn)
	if !ok || runtime.GOMAXPROCS(0) < 2 {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	return &pollingInput{conn: tc, rc: rc, mayPoll: mayPoll, polling: polling}
}

// pollingInput reads a session's TCP connection, polling for a moment before
// it waits when that is free (see above).
type pollingInput struct {
	conn    *net.TCPConn
	rc      syscall.RawConn
	mayPoll func() bool
	polling *atomic.Bool
}

func (in *pollingInput) Read(p []byte) (int, error) {
	if len(p) > 0 && in.mayPoll() && in.polling.CompareAndSwap(false, true) {
		// Poll for readability only; the read itself is the connection's
		// own, with its deadline, its errors and its EOF.
		in.rc.Control(func(fd uintptr) {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			until := time.Now().Add(pollInputFor)
			for {
				n, err := unix.Poll(fds, 0)
				if n > 0 || err != nil && err != unix.EINTR {
					return
				}
				if time.Now().After(until) || !in.mayPoll() {
					return
				}
			}
		})
		in.polling.Store(false)
	}
	return in.conn.Read(p)
}
