//go:build !linux

package smtp

import (
	"io"
	"net"
)

// input returns what the session reads its client's octets from: on this
// system, c itself (polling for input is done on Linux only, see
// input_linux.go).
func (s *session) input(c net.Conn) io.Reader { return c }
