package smtp

import (
	"errors"
	"strings"
	"testing"
)

func TestParseMail(t *testing.T) {
	tests := []struct {
		name, arg string
		want      string // Addr
		size      int64
		body      string
		utf8      bool
		wantErr   string
	}{
		{name: "plain", arg: "FROM:<alice@mailx.test>", want: "alice@mailx.test"},
		{name: "lower case keyword", arg: "from:<alice@mailx.test>", want: "alice@mailx.test"},
		{name: "space after colon", arg: "FROM: <alice@mailx.test>", want: "alice@mailx.test"},
		{name: "null", arg: "FROM:<>", want: ""},
		{name: "params", arg: "FROM:<a@b.test> SIZE=1200 BODY=8BITMIME", want: "a@b.test", size: 1200, body: "8BITMIME"},
		{name: "utf8", arg: "FROM:<jörg@bücher.test> SMTPUTF8", want: "jörg@bücher.test", utf8: true},
		{name: "utf8 undeclared", arg: "FROM:<jörg@bücher.test>", wantErr: "SMTPUTF8"},
		{name: "no brackets", arg: "FROM:alice@mailx.test", wantErr: "angle brackets"},
		{name: "no keyword", arg: "<alice@mailx.test>", wantErr: "MAIL FROM:<address>"},
		{name: "bad size", arg: "FROM:<a@b.test> SIZE=big", wantErr: "SIZE"},
		{name: "unknown param", arg: "FROM:<a@b.test> RET=FULL", wantErr: "not supported"},
		{name: "binarymime", arg: "FROM:<a@b.test> BODY=BINARYMIME", wantErr: "BINARYMIME"},
		{name: "unclosed", arg: "FROM:<a@b.test", wantErr: "closing >"},
		{name: "junk after", arg: "FROM:<a@b.test>junk", wantErr: "space"},
		{name: "literal", arg: "FROM:<a@[127.0.0.1]>", want: "a@[127.0.0.1]"},
		{name: "bad literal", arg: "FROM:<a@[300.0.0.1]>", wantErr: "address literal"},
		{name: "double dot", arg: "FROM:<a..b@c.test>", wantErr: "empty part"},
		{name: "long local", arg: "FROM:<" + strings.Repeat("a", 65) + "@c.test>", wantErr: "64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMail(tc.arg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseMail(%q) error = %v, want one containing %q", tc.arg, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMail(%q) = %v", tc.arg, err)
			}
			if m.From.Addr() != tc.want || m.Size != tc.size || m.Body != tc.body || m.SMTPUTF8 != tc.utf8 {
				t.Errorf("ParseMail(%q) = %+v, want addr %q size %d body %q utf8 %v", tc.arg, m, tc.want, tc.size, tc.body, tc.utf8)
			}
		})
	}
}

func TestParseRcpt(t *testing.T) {
	tests := []struct {
		name, arg     string
		local, domain string
		route         []string
		postmaster    bool
		wantErr       string
	}{
		{name: "plain", arg: "TO:<bob@mailx.test>", local: "bob", domain: "mailx.test"},
		{name: "quoted at", arg: `TO:<"a@b"@mailx.test>`, local: `"a@b"`, domain: "mailx.test"},
		{name: "quoted gt", arg: `TO:<"a>b"@mailx.test>`, local: `"a>b"`, domain: "mailx.test"},
		{name: "percent hack kept literal", arg: "TO:<a%b@mailx.test>", local: "a%b", domain: "mailx.test"},
		{name: "source route", arg: "TO:<@a.test,@b.test:bob@c.test>", local: "bob", domain: "c.test", route: []string{"a.test", "b.test"}},
		{name: "bare postmaster", arg: "TO:<Postmaster>", local: "Postmaster", postmaster: true},
		{name: "postmaster at", arg: "TO:<postmaster@mailx.test>", local: "postmaster", domain: "mailx.test", postmaster: true},
		{name: "null", arg: "TO:<>", wantErr: "never a recipient"},
		{name: "no domain", arg: "TO:<bob>", wantErr: "no @domain"},
		{name: "two ats", arg: "TO:<a@b@mailx.test>", wantErr: "not allowed in domain"},
		{name: "unclosed quote", arg: `TO:<"a@mailx.test>`, wantErr: "not closed"},
		{name: "bad route", arg: "TO:<@a.test:@b.test>", wantErr: "local part before @ is empty"},
		{name: "param", arg: "TO:<bob@mailx.test> NOTIFY=NEVER", wantErr: "NOTIFY"},
		{name: "space in local", arg: "TO:<b ob@mailx.test>", wantErr: "not allowed"},
		{name: "hyphen label", arg: "TO:<bob@-x.test>", wantErr: "letter or digit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRcpt(tc.arg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseRcpt(%q) error = %v, want one containing %q", tc.arg, err, tc.wantErr)
				}
				var pe *PathError
				if !errors.As(err, &pe) {
					t.Fatalf("ParseRcpt(%q) error %T is not a *PathError", tc.arg, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRcpt(%q) = %v", tc.arg, err)
			}
			if r.To.Local != tc.local || r.To.Domain != tc.domain || r.To.Postmaster != tc.postmaster || strings.Join(r.To.Route, ",") != strings.Join(tc.route, ",") {
				t.Errorf("ParseRcpt(%q) = %+v", tc.arg, r.To)
			}
		})
	}
}

func TestASCIIDomain(t *testing.T) {
	p, err := ParsePath("<jörg@Bücher.test>")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.ASCIIDomain(); got != "xn--bcher-kva.test" {
		t.Errorf("ASCIIDomain() = %q, want xn--bcher-kva.test", got)
	}
}

// FuzzParseCommandArgs feeds arbitrary MAIL and RCPT arguments to the
// parsers: they must never panic, and whatever they accept must re-parse to
// the same mailbox and respect the RFC 5321 size limits.
func FuzzParseCommandArgs(f *testing.F) {
	for _, s := range []string{
		"FROM:<alice@mailx.test>", "FROM:<> SIZE=10", `TO:<"a@b"@mailx.test>`, "TO:<@a,@b:c@d>",
		"TO:<Postmaster>", "FROM:<a@[IPv6:::1]> BODY=8BITMIME SMTPUTF8", "TO:<a%b@c>", `TO:<"\"x\\"@y>`,
		"FROM:<jörg@bücher.test> SMTPUTF8", "FROM: <a@b> AUTH=<>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		if m, err := ParseMail(arg); err == nil {
			if m.From.Null {
				return
			}
			check(t, m.From)
		}
		if r, err := ParseRcpt(arg); err == nil && !(r.To.Postmaster && r.To.Domain == "") {
			check(t, r.To)
		}
	})
}

func check(t *testing.T, p Path) {
	t.Helper()
	if len(p.Local) > MaxLocalPart || len(p.Domain) > MaxDomain {
		t.Fatalf("accepted over-long address %q", p.Addr())
	}
	again, err := ParsePath("<" + p.Addr() + ">")
	if err != nil {
		t.Fatalf("ParsePath(<%s>) = %v, but it was accepted before", p.Addr(), err)
	}
	if again.Local != p.Local || again.Domain != p.Domain {
		t.Fatalf("re-parse of %q gave %q@%q", p.Addr(), again.Local, again.Domain)
	}
}
