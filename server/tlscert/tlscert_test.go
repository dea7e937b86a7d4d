package tlscert

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateKeepsCertificate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	first, err := LoadOrCreate(dir, []string{"mailx.test"})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created {
		t.Error("first start did not create the certificate")
	}
	second, err := LoadOrCreate(dir, []string{"mailx.test"})
	if err != nil {
		t.Fatal(err)
	}
	if second.Created || second.Fingerprint != first.Fingerprint {
		t.Errorf("second start: created=%v, fingerprint changed=%v", second.Created, second.Fingerprint != first.Fingerprint)
	}
	if fi, err := os.Stat(first.KeyFile); err != nil || (fi.Mode().Perm()&0o077 != 0 && os.PathSeparator == '/') {
		t.Errorf("key file mode: %v %v", fi.Mode(), err)
	}
}

func TestHandshakeWithPinnedCertificate(t *testing.T) {
	r, err := LoadOrCreate(t.TempDir(), []string{"mailx.test"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", r.ServerConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	for _, name := range []string{"mailx.test", "localhost"} {
		c, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: r.ClientPool(), ServerName: name})
		if err != nil {
			t.Fatalf("verify as %s: %v", name, err)
		}
		c.Close()
	}
	if _, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: r.ClientPool(), ServerName: "other.example"}); err == nil {
		t.Error("certificate verified for a name it does not cover")
	}
}

func TestBrokenFilesExplained(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "cert.pem"), []byte("junk"), 0o644)
	if _, err := LoadOrCreate(dir, nil); err == nil {
		t.Fatal("cert.pem without key.pem accepted")
	}
	os.WriteFile(filepath.Join(dir, "key.pem"), []byte("junk"), 0o600)
	if _, err := LoadOrCreate(dir, nil); err == nil {
		t.Fatal("junk files accepted")
	}
}

// TestLoadOrCreateRenamed: a generated certificate that does not cover the
// server's names (its domain or host name changed) is replaced.
func TestLoadOrCreateRenamed(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadOrCreate(dir, []string{"crepes.test"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := LoadOrCreate(dir, []string{"crepes.test", "mx.crepes.test"})
	if err != nil {
		t.Fatal(err)
	}
	if !second.Created || second.Fingerprint == first.Fingerprint {
		t.Fatalf("not replaced: created=%v", second.Created)
	}
	for _, n := range []string{"crepes.test", "mx.crepes.test", "localhost"} {
		if err := second.Cert.Leaf.VerifyHostname(n); err != nil {
			t.Errorf("new certificate: %v", err)
		}
	}
	third, err := LoadOrCreate(dir, []string{"mx.crepes.test"})
	if err != nil || third.Created {
		t.Errorf("a certificate covering the names was replaced: %v", err)
	}
}
