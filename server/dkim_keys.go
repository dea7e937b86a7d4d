package server

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mailx-edu/mailx/proto/auth"
)

// DKIM selectors of the keys mailx generates: one Ed25519 key (RFC 8463) and
// one RSA-2048 key, since many receivers still verify RSA only, so mail is
// signed with both (RFC 8463 §6). A date in the name leaves room for the
// next key when they are rotated.
const (
	SelectorEd25519 = "ed2026"
	SelectorRSA     = "rsa2026"
)

// DKIMKey is one domain's signing key and the record that publishes it.
type DKIMKey struct {
	Domain   string `json:"domain"`
	Selector string `json:"selector"`
	Type     string `json:"type"`
	// Name and Record are what to publish in DNS: a TXT record at Name.
	Name   string        `json:"name"`
	Record string        `json:"record"`
	Path   string        `json:"path"`
	Signer crypto.Signer `json:"-"`
}

// DKIMDir is where a server keeps its DKIM keys: DATA/dkim/DOMAIN/SELECTOR.key.
func DKIMDir(data string) string { return filepath.Join(data, "dkim") }

// ReadDKIM returns the keys of domain that exist, without creating any.
func ReadDKIM(data, domain string) ([]DKIMKey, error) {
	domain = strings.ToLower(domain)
	dir := filepath.Join(DKIMDir(data), domain)
	var out []DKIMKey
	for _, sel := range []string{SelectorEd25519, SelectorRSA} {
		k, err := loadDKIM(dir, domain, sel, false)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

func loadDKIM(dir, domain, sel string, create bool) (DKIMKey, error) {
	path := filepath.Join(dir, sel+".key")
	k := DKIMKey{Domain: domain, Selector: sel, Name: sel + "._domainkey." + domain, Path: path}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		blk, _ := pem.Decode(b)
		if blk == nil {
			return k, fmt.Errorf("dkim key %s: not PEM; delete it to have a new one generated", path)
		}
		key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return k, fmt.Errorf("dkim key %s: %w", path, err)
		}
		s, ok := key.(crypto.Signer)
		if !ok {
			return k, fmt.Errorf("dkim key %s: not a signing key", path)
		}
		k.Signer = s
	case errors.Is(err, os.ErrNotExist) && create:
		var s crypto.Signer
		if sel == SelectorEd25519 {
			_, s, err = ed25519.GenerateKey(rand.Reader)
		} else {
			s, err = rsa.GenerateKey(rand.Reader, 2048)
		}
		if err != nil {
			return k, fmt.Errorf("dkim key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(s)
		if err != nil {
			return k, err
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return k, fmt.Errorf("dkim key: %w", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return k, fmt.Errorf("dkim key: %w", err)
		}
		k.Signer = s
	default:
		return k, err
	}
	k.Type = "rsa"
	if _, ok := k.Signer.Public().(ed25519.PublicKey); ok {
		k.Type = "ed25519"
	}
	rec, err := auth.KeyRecord(k.Signer.Public())
	if err != nil {
		return k, err
	}
	k.Record = rec
	return k, nil
}

// dkimKeyring holds a server's signing keys. Ed25519 keys are made at once
// (microseconds); a missing RSA-2048 key takes a third of a second of CPU,
// so it is made in the background, once, and the first message to sign
// waits for it. Start-up and the tests stay fast.
type dkimKeyring struct {
	mu      sync.Mutex
	keys    map[string][]auth.SigningKey
	records []DKIMKey
	ready   chan struct{} // closed when every key exists
}

func (k *dkimKeyring) add(key DKIMKey) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys[key.Domain] = append(k.keys[key.Domain], auth.SigningKey{Selector: key.Selector, Signer: key.Signer})
	k.records = append(k.records, key)
}

// newKeyring loads or makes the keys of domains under data; log reports a
// key that could not be made in the background.
// made, when set, is told about each key made in the background before
// any message is signed with it (the lab publishes it in its DNS).
func newKeyring(data string, domains []string, log func(domain string, err error), made func(DKIMKey)) (*dkimKeyring, error) {
	k := &dkimKeyring{keys: map[string][]auth.SigningKey{}, ready: make(chan struct{})}
	var pending []string
	for _, d := range domains {
		d = strings.ToLower(d)
		dir := filepath.Join(DKIMDir(data), d)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("dkim keys: %w", err)
		}
		ed, err := loadDKIM(dir, d, SelectorEd25519, true)
		if err != nil {
			return nil, err
		}
		k.add(ed)
		rsaKey, err := loadDKIM(dir, d, SelectorRSA, false)
		switch {
		case err == nil:
			k.add(rsaKey)
		case errors.Is(err, os.ErrNotExist):
			pending = append(pending, d)
		default:
			return nil, err
		}
	}
	if len(pending) == 0 {
		close(k.ready)
		return k, nil
	}
	go func() {
		defer close(k.ready)
		for _, d := range pending {
			key, err := loadDKIM(filepath.Join(DKIMDir(data), d), d, SelectorRSA, true)
			if err != nil {
				log(d, err)
				continue
			}
			k.add(key)
			if made != nil {
				made(key)
			}
		}
	}()
	return k, nil
}

// signing returns domain's keys, waiting for any still being made.
func (k *dkimKeyring) signing(domain string) []auth.SigningKey {
	<-k.ready
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys[domain]
}

// published returns the keys made so far, for DNS.
func (k *dkimKeyring) published() []DKIMKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]DKIMKey(nil), k.records...)
}
