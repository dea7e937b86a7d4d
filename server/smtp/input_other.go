//go:build !linux

package smtp

import (
	"io"
	"net"
	"sync/atomic"
)

// newPollingInput returns what a session reads its client's octets from: on
// this system, c itself (polling for input is done on Linux only, see
// input_linux.go).
func newPollingInput(c net.Conn, mayPoll func() bool, polling *atomic.Bool) io.Reader { return c }
