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

// LoadOrCreateDKIM returns domain's keys from data's key directory,
// generating the missing ones (PKCS #8 PEM, mode 0600).
func LoadOrCreateDKIM(data, domain string) ([]DKIMKey, error) {
	domain = strings.ToLower(domain)
	dir := filepath.Join(DKIMDir(data), domain)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dkim keys: %w", err)
	}
	var out []DKIMKey
	for _, sel := range []string{SelectorEd25519, SelectorRSA} {
		k, err := loadDKIM(dir, domain, sel, true)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

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
