package auth

import (
	"bytes"
	"net/mail"
	"strings"
)

// Field is one header field of a message.
type Field struct {
	Name  string // as written, e.g. "DKIM-Signature"
	Value string // unfolded, leading space removed
	Raw   string // the field as it was, folding and final CRLF included
}

// SplitMessage splits a message (CRLF or LF lines) into its header section
// and body. The body starts after the first empty line; a message without
// one is all header.
func SplitMessage(msg []byte) (header, body []byte) {
	for i := 0; i < len(msg); {
		j := bytes.IndexByte(msg[i:], '\n')
		if j < 0 {
			return msg, nil
		}
		line := msg[i : i+j]
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			return msg[:i], msg[i+j+1:]
		}
		i += j + 1
	}
	return msg, nil
}

// Fields parses a header section into fields, keeping each one's raw text.
// Lines that are neither fields nor continuations are skipped.
func Fields(header []byte) []Field {
	var out []Field
	lines := strings.SplitAfter(string(header), "\n")
	for _, l := range lines {
		if l == "" {
			continue
		}
		if (l[0] == ' ' || l[0] == '\t') && len(out) > 0 {
			f := &out[len(out)-1]
			f.Raw += l
			f.Value += " " + strings.TrimSpace(l)
			continue
		}
		name, value, ok := strings.Cut(l, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			continue
		}
		out = append(out, Field{Name: name, Value: strings.TrimSpace(value), Raw: l})
	}
	for i := range out {
		out[i].Value = strings.TrimSpace(out[i].Value)
	}
	return out
}

// Get returns the value of the first field named name, or "".
func Get(fields []Field, name string) string {
	for _, f := range fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// FromDomain returns the domain of the header From: address (the RFC5322.From
// DMARC protects) and a problem when there is not exactly one From field
// with exactly one address (RFC 7489 §6.6.1).
func FromDomain(fields []Field) (domain, problem string) {
	var values []string
	for _, f := range fields {
		if strings.EqualFold(f.Name, "From") {
			values = append(values, f.Value)
		}
	}
	switch len(values) {
	case 0:
		return "", "the message has no From: field"
	case 1:
	default:
		return "", "the message has several From: fields"
	}
	addrs, err := mail.ParseAddressList(values[0])
	if err != nil || len(addrs) == 0 {
		// Fall back to the text between the last < and >, or the value.
		v := values[0]
		if i, j := strings.LastIndexByte(v, '<'), strings.LastIndexByte(v, '>'); i >= 0 && j > i {
			v = v[i+1 : j]
		}
		if at := strings.LastIndexByte(v, '@'); at >= 0 && !strings.ContainsAny(v[at+1:], " ,;<>") {
			return strings.ToLower(strings.TrimSpace(v[at+1:])), ""
		}
		return "", "the From: field holds no readable address"
	}
	if len(addrs) > 1 {
		return "", "the From: field names several authors"
	}
	return DomainOf(addrs[0].Address), ""
}

// DomainOf returns the lower-case domain of an address, or "".
func DomainOf(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(addr[at+1:], "."))
}
