package explore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/explore/render"
)

// step is one exchange a scripted server expects: a client line starting
// with want (case-insensitive), answered with reply ("\n" separates lines;
// "" sends nothing). data makes the server read message text up to "."
// after sending reply, and then send dataReply.
type step struct {
	want      string
	reply     string
	data      bool
	dataReply string
	tls       bool // after reply, run a TLS handshake as server
}

// fakeServer is an in-process scripted server on 127.0.0.1:0.
type fakeServer struct {
	addr     string
	port     int
	mu       sync.Mutex
	received []string // every line the client sent, as on the wire
	done     chan struct{}
}

func (f *fakeServer) lines() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.received...)
}

// startFake listens on loopback and serves one connection with the script:
// greeting, then steps in order; after the last step it closes the
// connection (a server that "closes early" is a script that ends early).
// hold keeps the connection open and silent after the script instead.
func startFake(t *testing.T, greeting string, steps []step, tlsCfg *tls.Config, hold bool) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{addr: ln.Addr().String(), port: ln.Addr().(*net.TCPAddr).Port, done: make(chan struct{})}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop); ln.Close(); <-f.done })
	go func() {
		defer close(f.done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		go func() { <-stop; c.Close() }()
		var conn net.Conn = c
		r := bufio.NewReader(conn)
		send := func(s string) {
			if s == "" {
				return
			}
			for _, l := range strings.Split(s, "\n") {
				conn.Write([]byte(l + "\r\n"))
			}
		}
		readLine := func() (string, bool) {
			l, err := r.ReadString('\n')
			if err != nil {
				return "", false
			}
			l = strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
			f.mu.Lock()
			f.received = append(f.received, l)
			f.mu.Unlock()
			return l, true
		}
		send(greeting)
		for _, st := range steps {
			l, ok := readLine()
			if !ok {
				return
			}
			if !strings.HasPrefix(strings.ToUpper(l), strings.ToUpper(st.want)) {
				send("500 5.5.2 test server expected " + st.want)
				return
			}
			send(st.reply)
			if st.tls {
				tc := tls.Server(conn, tlsCfg)
				if err := tc.Handshake(); err != nil {
					return
				}
				conn = tc
				r = bufio.NewReader(conn)
			}
			if st.data {
				for {
					l, ok := readLine()
					if !ok {
						return
					}
					if l == "." {
						break
					}
				}
				send(st.dataReply)
			}
		}
		if hold {
			<-stop
		}
	}()
	return f
}

// testCert returns a server config for "mx.test" and 127.0.0.1 and a pool
// trusting it.
func testCert(t *testing.T, notAfter time.Time) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mx.test", Organization: []string{"mailx test"}},
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              notAfter,
		DNSNames:              []string{"mx.test"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

// runSMTP runs a scripted session against addr and returns the plain output.
func runSMTP(t *testing.T, f *fakeServer, lines []string, mod func(*Options, *DialOptions)) (string, *Session, error) {
	t.Helper()
	var out bytes.Buffer
	o := Options{
		Protocol:        NewSMTP(),
		Render:          render.New(&out, render.Options{}),
		Input:           &LinesInput{Lines: lines},
		ResponseTimeout: 5 * time.Second,
		Now:             func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) },
	}
	d := DialOptions{Timeout: 5 * time.Second}
	if mod != nil {
		mod(&o, &d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Dial(ctx, "127.0.0.1", f.port, d)
	if err != nil {
		return out.String(), nil, err
	}
	defer c.Close()
	s := NewSession(c, o)
	err = s.Run(ctx)
	return out.String(), s, err
}
