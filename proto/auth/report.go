package auth

import (
	"bytes"
	"context"
	"net/netip"
	"regexp"
	"strings"
)

// Envelope is what the receiving server knew besides the message: who
// connected, its HELO name and the MAIL FROM address. For a stored message
// it is read back from the trace fields (Return-Path:, Received:).
type Envelope struct {
	IP       string `json:"ip"`
	Helo     string `json:"helo"`
	MailFrom string `json:"mail_from"`
	// Source says where each came from, for the explanation.
	Source []string `json:"source,omitempty"`
}

var (
	receivedFrom = regexp.MustCompile(`(?i)^from\s+(\S+)`)
	receivedIP   = regexp.MustCompile(`\[(?:IPv6:)?([0-9A-Fa-f:.]+)\]`)
	returnPath   = regexp.MustCompile(`<([^>]*)>`)
)

// EnvelopeFromTrace recovers the envelope of a delivered message from its
// trace fields: MAIL FROM from Return-Path: (RFC 5321 §4.4), the client
// address and HELO name from the topmost Received: field that records an
// address (the one the last server wrote, describing who connected to it).
func EnvelopeFromTrace(fields []Field) Envelope {
	var e Envelope
	if rp := Get(fields, "Return-Path"); rp != "" {
		if m := returnPath.FindStringSubmatch(rp); m != nil {
			e.MailFrom = m[1]
			e.Source = append(e.Source, "MAIL FROM from Return-Path: "+rp)
		}
	}
	for _, f := range fields {
		if !strings.EqualFold(f.Name, "Received") {
			continue
		}
		ip := receivedIP.FindStringSubmatch(f.Value)
		if ip == nil {
			continue
		}
		if a, err := netip.ParseAddr(ip[1]); err == nil {
			e.IP = a.Unmap().String()
		}
		if m := receivedFrom.FindStringSubmatch(f.Value); m != nil {
			e.Helo = strings.Trim(m[1], "()")
		}
		v := f.Value
		if len(v) > 120 {
			v = v[:120] + "..."
		}
		e.Source = append(e.Source, "client address and HELO from Received: "+v)
		break
	}
	return e
}

// Report is a full, step-by-step authentication report of one message.
type Report struct {
	Envelope Envelope  `json:"envelope"`
	Verdicts Verdicts  `json:"verdicts"`
	SPFTerms []SPFTerm `json:"spf_terms,omitempty"`
	SPFError string    `json:"spf_record_error,omitempty"`
	// Earlier are the Authentication-Results fields already in the message:
	// what the receiving servers concluded at the time.
	Earlier []EarlierResult `json:"earlier,omitempty"`
}

// EarlierResult is one Authentication-Results field found in a message.
type EarlierResult struct {
	AuthservID string            `json:"authserv_id"`
	Results    map[string]string `json:"results"`
	Raw        string            `json:"raw"`
}

// CanonicalCRLF returns msg with every line ending CR LF, as DKIM computes
// over (files saved on Unix often have bare LF).
func CanonicalCRLF(msg []byte) []byte {
	if !bytes.Contains(msg, []byte("\n")) || !bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) {
		return msg
	}
	return bytes.ReplaceAll(bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
}

// Investigate redoes every check of msg against DNS, in detail, with the
// envelope env (fields left empty are read from the trace fields).
func Investigate(ctx context.Context, r Resolver, msg []byte, env Envelope) Report {
	msg = CanonicalCRLF(msg)
	header, _ := SplitMessage(msg)
	fields := Fields(header)
	trace := EnvelopeFromTrace(fields)
	if env.IP == "" {
		env.IP = trace.IP
	}
	if env.Helo == "" {
		env.Helo = trace.Helo
	}
	if env.MailFrom == "" {
		env.MailFrom = trace.MailFrom
	}
	env.Source = trace.Source
	rep := Report{Envelope: env}
	ip, err := netip.ParseAddr(env.IP)
	if err != nil {
		rep.Verdicts.SPF = SPF{Result: "none", Sender: env.MailFrom, Helo: env.Helo, Error: "no client address known: give it with --ip",
			Identity: "mailfrom", Domain: DomainOf(env.MailFrom)}
	} else {
		rep.Verdicts.SPF = CheckSPF(ctx, r, ip, env.Helo, env.MailFrom)
	}
	if rec := rep.Verdicts.SPF.Record; rec != "" {
		rep.SPFTerms, err = ParseSPF(rec)
		if err != nil {
			rep.SPFError = err.Error()
		}
	}
	rep.Verdicts.DKIM = VerifyDKIM(ctx, r, msg, true)
	rep.Verdicts.DMARC = CheckDMARC(ctx, r, fields, rep.Verdicts.SPF, rep.Verdicts.DKIM)
	for _, f := range fields {
		if !strings.EqualFold(f.Name, "Authentication-Results") {
			continue
		}
		id, res, err := ParseResults(f.Value)
		if err != nil {
			id = ResultsID(f.Value)
		}
		rep.Earlier = append(rep.Earlier, EarlierResult{AuthservID: id, Results: res, Raw: f.Value})
	}
	return rep
}
