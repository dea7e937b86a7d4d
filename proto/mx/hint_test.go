package mx

import (
	"strings"
	"testing"
)

// TestRefusedHint: REFUSED from a server elsewhere points at recursive
// resolvers; from this machine (a lab DNS), at the lab's own domains.
func TestRefusedHint(t *testing.T) {
	remote := &Error{Kind: ErrRefused, Name: "a.test", Server: "192.0.2.53:53"}
	local := &Error{Kind: ErrRefused, Name: "a.test", Server: "127.0.0.1:5300", Loopback: isLoopbackServer("127.0.0.1:5300")}
	if !strings.Contains(remote.Hint(), "recursive resolver") || strings.Contains(remote.Hint(), "lab DNS") {
		t.Errorf("remote REFUSED hint: %q", remote.Hint())
	}
	if !local.Loopback || !strings.Contains(local.Hint(), "lab DNS") {
		t.Errorf("loopback REFUSED hint: %q", local.Hint())
	}
	if isLoopbackServer("[::1]:53") != true || isLoopbackServer("10.0.0.1:53") {
		t.Error("isLoopbackServer misreads addresses")
	}
}
