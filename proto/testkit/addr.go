package testkit

import "net"

// FreeAddr returns a loopback address, "127.0.0.1:PORT", whose port was free
// a moment ago. Use it only for peers that cannot listen on 127.0.0.1:0 and
// report the port they bound (external programs such as smtp-sink or
// Dovecot, or a configuration written before the server starts): another
// process may take the port in between, so in-process servers should listen
// on "127.0.0.1:0" themselves.
func FreeAddr(t TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testkit: no free loopback port: %v", err)
		return ""
	}
	defer l.Close()
	return l.Addr().String()
}
