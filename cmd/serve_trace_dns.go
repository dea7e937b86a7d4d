package cmd

import (
	"fmt"
	"strings"

	"github.com/mailx-edu/mailx/proto/note"
)

// dnsTrace explains the lab DNS server's side of a lookup in
// `mailx serve --lab --trace`. server/labdns reports each query as a client
// line ("MX? hamburger.test (from 127.0.0.1:40000)") and its answer as a
// server line: the response code, then the records, separated by " | ".
type dnsTrace struct {
	qtype, name string
}

func (d *dnsTrace) Client(line string) []note.Note {
	q, rest, ok := strings.Cut(line, "? ")
	if !ok {
		return nil
	}
	d.qtype, d.name = q, ""
	if f := strings.Fields(rest); len(f) > 0 {
		d.name = f[0]
	}
	switch q {
	case "MX":
		return []note.Note{{Summary: "a sending server asks which hosts take mail for " + d.name, Ref: "RFC 5321 §5.1"}}
	case "A", "AAAA":
		return []note.Note{{Summary: "the address of " + d.name + ", to connect to it", Ref: "RFC 1035 §3.4.1, RFC 3596"}}
	}
	return nil
}

func (d *dnsTrace) Server(line string) []note.Note {
	parts := strings.Split(line, " | ")
	switch parts[0] {
	case "NXDOMAIN":
		return []note.Note{{Summary: d.name + " does not exist (NXDOMAIN): mail for it bounces", Ref: "RFC 1035 §4.1.1", Severity: note.Warning}}
	case "REFUSED":
		return []note.Note{{Summary: "refused: the lab DNS answers only for the lab's domains", Ref: "RFC 1035 §4.1.1", Severity: note.Warning}}
	case "NOERROR":
	default:
		return nil
	}
	if len(parts) == 2 && parts[1] == "(no records of that type)" {
		n := note.Note{Summary: d.name + " exists but has no " + d.qtype + " records (NODATA)", Ref: "RFC 2308 §2.2"}
		if d.qtype == "MX" {
			n.Detail = "Without MX records the sender uses the domain's own address (implicit MX)."
			n.Ref = "RFC 5321 §5.1"
		}
		return []note.Note{n}
	}
	var out []note.Note
	for _, rr := range parts[1:] {
		f := strings.Fields(rr)
		if len(f) < 6 || f[3] != "MX" {
			continue
		}
		if f[5] == "." {
			out = append(out, note.Note{Summary: "null MX (MX 0 .): " + d.name + " accepts no mail; senders bounce at once without trying", Ref: "RFC 7505"})
			continue
		}
		out = append(out, note.Note{Summary: fmt.Sprintf("mail for %s goes to %s (preference %s; lowest is tried first)",
			strings.TrimSuffix(f[0], "."), strings.TrimSuffix(f[5], "."), f[4]), Ref: "RFC 5321 §5.1"})
	}
	return out
}
