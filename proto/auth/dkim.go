package auth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// Tag is one tag=value pair of a DKIM tag list (RFC 6376 §3.2).
type Tag struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// maxTagList bounds what ParseTags reads: a DKIM-Signature with a 4096-bit
// RSA signature and a long h= list stays far below it.
const maxTagList = 16 << 10

// ParseTags parses a DKIM tag list: "tag=value" pairs separated by ";",
// with folding white space around them removed (RFC 6376 §3.2). A tag
// given twice is an error, as the RFC says.
func ParseTags(s string) ([]Tag, error) {
	if len(s) > maxTagList {
		return nil, fmt.Errorf("dkim: tag list of %d octets is longer than %d", len(s), maxTagList)
	}
	var out []Tag
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ";") {
		part = strings.Trim(part, " \t\r\n")
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("dkim: %q is not tag=value", part)
		}
		name = strings.Trim(name, " \t\r\n")
		if name == "" || !validTagName(name) {
			return nil, fmt.Errorf("dkim: %q is not a valid tag name", name)
		}
		if seen[name] {
			return nil, fmt.Errorf("dkim: tag %s given twice", name)
		}
		seen[name] = true
		out = append(out, Tag{Name: name, Value: strings.Trim(value, " \t\r\n")})
	}
	return out, nil
}

func validTagName(n string) bool {
	for i, c := range n {
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alpha && (i == 0 || !(c >= '0' && c <= '9' || c == '_')) {
			return false
		}
	}
	return true
}

// TagValue returns the value of tag name, or "".
func TagValue(tags []Tag, name string) string {
	for _, t := range tags {
		if t.Name == name {
			return t.Value
		}
	}
	return ""
}

// stripFWS removes folding white space inside a base64 or list value.
func stripFWS(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// DKIMTagMeaning says what each DKIM-Signature tag is for.
var DKIMTagMeaning = map[string]string{
	"v":  "version (always 1)",
	"a":  "signing algorithm: key type and hash",
	"b":  "the signature itself (base64)",
	"bh": "hash of the canonicalized body (base64)",
	"c":  "canonicalization of header/body: simple tolerates no change, relaxed tolerates whitespace and case changes",
	"d":  "the signing domain (SDID): who takes responsibility",
	"h":  "the header fields covered by the signature, in order",
	"i":  "the agent or user on whose behalf the domain signed (AUID)",
	"l":  "only this many octets of the body are covered (dangerous: content can be appended)",
	"q":  "how to fetch the key: dns/txt",
	"s":  "the selector: the key is at SELECTOR._domainkey.DOMAIN",
	"t":  "signature time (Unix seconds)",
	"x":  "expiry time (Unix seconds)",
	"z":  "copies of the signed header fields (for diagnosis)",
}

// DKIMSignature is one DKIM-Signature field checked and explained.
type DKIMSignature struct {
	Domain    string   `json:"domain"`   // d=
	Selector  string   `json:"selector"` // s=
	Algorithm string   `json:"algorithm"`
	Canon     string   `json:"canonicalization"`
	Headers   []string `json:"headers"` // h=
	Tags      []Tag    `json:"tags"`
	// BodyHash is bh= as signed; ComputedBodyHash is what this copy of the
	// body hashes to under the signature's body canonicalization and l=.
	BodyHash         string `json:"body_hash"`
	ComputedBodyHash string `json:"computed_body_hash,omitempty"`
	BodyHashMatches  bool   `json:"body_hash_matches"`
	KeyName          string `json:"key_name"`             // SELECTOR._domainkey.DOMAIN
	KeyRecord        string `json:"key_record,omitempty"` // the TXT record found there
	KeyType          string `json:"key_type,omitempty"`
	KeyBits          int    `json:"key_bits,omitempty"`
	Result           string `json:"result"` // pass, fail, neutral, temperror, permerror, policy
	Error            string `json:"error,omitempty"`
	Short            string `json:"b_prefix,omitempty"` // the first 8 characters of b=, header.b in Authentication-Results (RFC 6008)
}

// DKIM is the result of verifying every signature of a message.
type DKIM struct {
	Result     string          `json:"result"` // "none" without signatures; else the best one's
	Signatures []DKIMSignature `json:"signatures"`
}

// Passing returns the domains of the signatures that verified.
func (d DKIM) Passing() []string {
	var out []string
	for _, s := range d.Signatures {
		if s.Result == "pass" {
			out = append(out, s.Domain)
		}
	}
	return out
}

// maxSignatures bounds the signatures verified per message: each costs a DNS
// lookup and a hash of the body, and a sender could add hundreds.
const maxSignatures = 5

// VerifyDKIM checks every DKIM-Signature of msg. With detail it also
// recomputes each body hash and fetches each key record for the
// explanation; the verdict is go-msgauth's either way.
func VerifyDKIM(ctx context.Context, r Resolver, msg []byte, detail bool) DKIM {
	out := DKIM{Result: "none", Signatures: []DKIMSignature{}}
	header, body := SplitMessage(msg)
	fields := Fields(header)
	var sigFields []Field
	for _, f := range fields {
		if strings.EqualFold(f.Name, "DKIM-Signature") {
			sigFields = append(sigFields, f)
		}
	}
	if len(sigFields) == 0 {
		return out
	}
	lookup := func(name string) ([]string, error) { return r.LookupTXT(ctx, name) }
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{LookupTXT: lookup, MaxVerifications: maxSignatures})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		out.Result = "permerror"
		for range sigFields {
			out.Signatures = append(out.Signatures, DKIMSignature{Result: "permerror", Error: err.Error(), Tags: []Tag{}})
		}
		return out
	}
	for i, f := range sigFields {
		if i >= maxSignatures {
			break
		}
		s := DKIMSignature{Tags: []Tag{}}
		tags, perr := ParseTags(f.Value)
		if perr == nil {
			s.Tags = tags
			s.Domain = strings.ToLower(TagValue(tags, "d"))
			s.Selector = TagValue(tags, "s")
			s.Algorithm = TagValue(tags, "a")
			s.Canon = TagValue(tags, "c")
			if s.Canon == "" {
				s.Canon = "simple/simple"
			}
			for _, h := range strings.Split(stripFWS(TagValue(tags, "h")), ":") {
				if h != "" {
					s.Headers = append(s.Headers, h)
				}
			}
			s.BodyHash = stripFWS(TagValue(tags, "bh"))
			if b := stripFWS(TagValue(tags, "b")); len(b) >= 8 {
				s.Short = b[:8]
			}
			s.KeyName = s.Selector + "._domainkey." + s.Domain
		}
		if i < len(verifs) {
			v := verifs[i]
			if s.Domain == "" {
				s.Domain = strings.ToLower(v.Domain)
			}
			switch {
			case v.Err == nil:
				s.Result = "pass"
			case dkim.IsTempFail(v.Err):
				s.Result, s.Error = "temperror", v.Err.Error()
			case dkim.IsPermFail(v.Err):
				s.Result, s.Error = "permerror", v.Err.Error()
			default:
				s.Result, s.Error = "fail", v.Err.Error()
			}
		}
		if detail && perr == nil {
			s.explainBody(body)
			s.explainKey(ctx, r)
		}
		if perr != nil && s.Result == "" {
			s.Result, s.Error = "permerror", perr.Error()
		}
		out.Signatures = append(out.Signatures, s)
	}
	out.Result = bestDKIM(out.Signatures)
	return out
}

// bestDKIM is the message's DKIM result for a summary: pass if any
// signature passes, else the first one's.
func bestDKIM(sigs []DKIMSignature) string {
	for _, s := range sigs {
		if s.Result == "pass" {
			return "pass"
		}
	}
	if len(sigs) == 0 {
		return "none"
	}
	return sigs[0].Result
}

func (s *DKIMSignature) explainBody(body []byte) {
	_, bodyCanon, _ := strings.Cut(s.Canon, "/")
	if bodyCanon == "" {
		bodyCanon = "simple"
	}
	var h hash.Hash
	switch {
	case strings.HasSuffix(s.Algorithm, "sha256"):
		h = sha256.New()
	case strings.HasSuffix(s.Algorithm, "sha1"):
		h = sha1.New()
	default:
		return
	}
	c := CanonicalBody(body, bodyCanon)
	if l := TagValue(s.Tags, "l"); l != "" {
		if n, err := strconv.ParseInt(l, 10, 64); err == nil && n >= 0 && n < int64(len(c)) {
			c = c[:n]
		}
	}
	h.Write(c)
	s.ComputedBodyHash = base64.StdEncoding.EncodeToString(h.Sum(nil))
	s.BodyHashMatches = s.ComputedBodyHash == s.BodyHash
}

func (s *DKIMSignature) explainKey(ctx context.Context, r Resolver) {
	txts, err := r.LookupTXT(ctx, s.KeyName)
	if err != nil || len(txts) == 0 {
		return
	}
	s.KeyRecord = txts[0]
	tags, err := ParseTags(txts[0])
	if err != nil {
		return
	}
	s.KeyType = TagValue(tags, "k")
	if s.KeyType == "" {
		s.KeyType = "rsa"
	}
	raw, err := base64.StdEncoding.DecodeString(stripFWS(TagValue(tags, "p")))
	if err != nil {
		return
	}
	switch s.KeyType {
	case "ed25519":
		s.KeyBits = len(raw) * 8
	case "rsa":
		if pub, err := x509.ParsePKIXPublicKey(raw); err == nil {
			if rk, ok := pub.(*rsa.PublicKey); ok {
				s.KeyBits = rk.N.BitLen()
			}
		} else if rk, err := x509.ParsePKCS1PublicKey(raw); err == nil {
			s.KeyBits = rk.N.BitLen()
		}
	}
}

// CanonicalBody returns body under the "simple" or "relaxed" body
// canonicalization (RFC 6376 §3.4.3, §3.4.4), from which bh= is computed.
func CanonicalBody(body []byte, canon string) []byte {
	lines := strings.Split(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n")
	if n := len(lines); n > 0 && lines[n-1] == "" {
		lines = lines[:n-1] // the split after the final line ending
	}
	if canon == "relaxed" {
		for i, l := range lines {
			l = strings.Join(strings.FieldsFunc(l, func(r rune) bool { return r == ' ' || r == '\t' }), " ")
			if strings.HasPrefix(lines[i], " ") || strings.HasPrefix(lines[i], "\t") {
				if l != "" {
					l = " " + l
				}
			}
			lines[i] = l
		}
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		if canon == "relaxed" {
			return nil
		}
		return []byte("\r\n")
	}
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// SigningKey is one private key and its selector.
type SigningKey struct {
	Selector string
	Signer   crypto.Signer
}

// SignedHeaders are the fields mailx signs when present (RFC 6376 §5.4.1's
// list, without the trace fields, which change in transit). From is
// required; it is listed twice so that no second From: can be added
// without breaking the signature ("oversigning").
var SignedHeaders = []string{"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To",
	"References", "MIME-Version", "Content-Type", "Content-Transfer-Encoding", "List-Id", "List-Unsubscribe"}

// SignDKIM signs msg for domain with each key (an Ed25519 and an RSA key
// side by side, as RFC 8463 §6 suggests) and returns the DKIM-Signature
// fields to put at the top of the message, CRLF-terminated.
func SignDKIM(msg []byte, domain string, keys []SigningKey, now time.Time) (string, error) {
	header, _ := SplitMessage(msg)
	fields := Fields(header)
	present := map[string]bool{}
	for _, f := range fields {
		present[strings.ToLower(f.Name)] = true
	}
	if !present["from"] {
		return "", errors.New("dkim: the message has no From: field to sign")
	}
	var hk []string
	for _, h := range SignedHeaders {
		if present[strings.ToLower(h)] {
			hk = append(hk, h)
		}
	}
	hk = append(hk, "From")
	var out strings.Builder
	for _, k := range keys {
		s, err := dkim.NewSigner(&dkim.SignOptions{
			Domain: domain, Selector: k.Selector, Signer: k.Signer, Hash: crypto.SHA256,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
			HeaderKeys: hk,
		})
		if err != nil {
			return "", fmt.Errorf("dkim: %s: %w", k.Selector, err)
		}
		if _, err := s.Write(msg); err != nil {
			s.Close()
			return "", err
		}
		if err := s.Close(); err != nil {
			return "", fmt.Errorf("dkim: sign with %s: %w", k.Selector, err)
		}
		out.WriteString(s.Signature())
	}
	return out.String(), nil
}

// KeyRecord returns the DNS TXT record that publishes pub as a DKIM key
// (RFC 6376 §3.6.1, RFC 8463 §4.2), e.g. "v=DKIM1; k=ed25519; p=...".
func KeyRecord(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k), nil
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return "", err
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	}
	return "", fmt.Errorf("dkim: unsupported key type %T", pub)
}
