package access_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/server/access"
	"github.com/mailx-edu/mailx/server/tlscert"
)

// TestServeTLSWithoutConfig: implicit TLS without a certificate is refused
// with ErrNoTLS, and the listener stays the caller's to close.
func TestServeTLSWithoutConfig(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var a access.Acceptor
	if err := a.ServeTLS(l, nil, func(c net.Conn) { c.Close() }); !errors.Is(err, access.ErrNoTLS) {
		t.Fatalf("ServeTLS(nil config) = %v; want ErrNoTLS", err)
	}
}

// TestServeTLSHandshakes: a connection accepted by ServeTLS is TLS from its
// first byte (POP3S, IMAPS): a TLS client trusting the certificate reads
// what the handler writes, and Close ends the loop with ErrClosed.
func TestServeTLSHandshakes(t *testing.T) {
	cert, err := tlscert.LoadOrCreate(t.TempDir(), []string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var a access.Acceptor
	served := make(chan error, 1)
	go func() {
		served <- a.ServeTLS(l, cert.ServerConfig(), func(c net.Conn) {
			go func() {
				defer c.Close()
				io.WriteString(c, "+OK hello over TLS\r\n")
			}()
		})
	}()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", l.Addr().String(),
		&tls.Config{ServerName: "localhost", RootCAs: cert.ClientPool()})
	if err != nil {
		t.Fatalf("TLS handshake with ServeTLS: %v", err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(got) != "+OK hello over TLS\r\n" {
		t.Fatalf("read %q, %v; want the handler's greeting", got, err)
	}
	a.Close()
	select {
	case err := <-served:
		if !errors.Is(err, access.ErrClosed) {
			t.Fatalf("ServeTLS after Close = %v; want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ServeTLS did not return after Close")
	}
}
