package mx_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/mx"
	"github.com/mailx-edu/mailx/proto/mx/mxtest"
)

// testZone has one domain for each situation the resolver must handle.
const testZone = `
$ORIGIN test.
$TTL 3600
; several MX, equal and different preferences, addresses in the additional section
multi            MX    10 mx1.multi
multi            MX    10 mx2.multi
multi            MX    20 backup.multi
mx1.multi        A     192.0.2.1
mx1.multi        AAAA  2001:db8::1
mx2.multi        A     192.0.2.2
backup.multi 300 A     192.0.2.3
; MX whose addresses the server does not send along (NoAdditional)
noglue           MX    10 mail.noglue
mail.noglue      A     192.0.2.10
mail.noglue      AAAA  2001:db8::10
; no MX, but addresses: implicit MX
implicit         A     192.0.2.20
implicit         AAAA  2001:db8::20
; null MX, with an A record a sender must not use
null             MX    0 .
null             A     192.0.2.30
; an alias chain to a domain with MX
alias        300 CNAME alias2
alias2       300 CNAME real
real             MX    10 mx.real
mx.real          A     192.0.2.40
; an MX target that is an alias
mxalias          MX    10 mail.mxalias
mail.mxalias     CNAME host.mxalias
host.mxalias     A     192.0.2.50
; an MX target that is an IP address, next to a proper one
literal          MX    10 192.0.2.60.
literal          MX    20 mx.literal
mx.literal       A     192.0.2.61
; an MX target that does not exist
dangling         MX    10 nowhere.dangling
; a name with neither MX nor address records
empty            TXT   "nothing here"
; answered SERVFAIL / REFUSED / never (see Options)
broken           MX    10 mx.broken
refused          MX    10 mx.refused
silent           MX    10 mx.silent
; too big for UDP (see Options.Truncate)
big              MX    10 mx.big
mx.big           A     192.0.2.80
; an internationalized domain: bücher.test
xn--bcher-kva    MX    10 mx.xn--bcher-kva
mx.xn--bcher-kva A     192.0.2.70
`

func startZone(t *testing.T) *mxtest.Server {
	t.Helper()
	return mxtest.Start(t, mxtest.Options{
		Zone:         testZone,
		NoAdditional: []string{"noglue.test"},
		ServFail:     []string{"broken.test"},
		Refuse:       []string{"refused.test"},
		Drop:         []string{"silent.test"},
		Truncate:     []string{"big.test"},
	})
}

func resolver(addr string) *mx.Resolver {
	return &mx.Resolver{Server: addr, Timeout: 2 * time.Second, Attempts: 1}
}

type wantX struct {
	pref  uint16
	host  string
	addrs string // "192.0.2.1/additional 2001:db8::1/additional"
}

func describe(xs []mx.Exchanger) []wantX {
	var out []wantX
	for _, x := range xs {
		var a []string
		for _, ad := range x.Addresses {
			a = append(a, ad.IP.String()+"/"+ad.Source)
		}
		out = append(out, wantX{x.Preference, x.Host, strings.Join(a, " ")})
	}
	return out
}

func topics(as []mx.Annotation) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Topic)
	}
	return out
}

func TestLookup(t *testing.T) {
	srv := startZone(t)
	tests := []struct {
		domain    string
		rule      mx.Rule
		canonical string
		aliases   int
		want      []wantX
		warnings  []string
		truncated bool
	}{
		{domain: "multi.test", rule: mx.RuleMX, canonical: "multi.test", want: []wantX{
			{10, "mx1.multi.test", "192.0.2.1/additional 2001:db8::1/additional"},
			{10, "mx2.multi.test", "192.0.2.2/additional"},
			{20, "backup.multi.test", "192.0.2.3/additional"},
		}},
		{domain: "NoGlue.Test.", rule: mx.RuleMX, canonical: "noglue.test", want: []wantX{
			{10, "mail.noglue.test", "192.0.2.10/query 2001:db8::10/query"},
		}},
		{domain: "implicit.test", rule: mx.RuleImplicit, canonical: "implicit.test", want: []wantX{
			{0, "implicit.test", "192.0.2.20/query 2001:db8::20/query"},
		}},
		{domain: "null.test", rule: mx.RuleNull, canonical: "null.test"},
		{domain: "alias.test", rule: mx.RuleMX, canonical: "real.test", aliases: 2, want: []wantX{
			{10, "mx.real.test", "192.0.2.40/additional"},
		}},
		{domain: "mxalias.test", rule: mx.RuleMX, canonical: "mxalias.test", want: []wantX{
			{10, "mail.mxalias.test", "192.0.2.50/query"},
		}, warnings: []string{mx.TopicMXAlias}},
		{domain: "literal.test", rule: mx.RuleMX, canonical: "literal.test", want: []wantX{
			{10, "192.0.2.60", ""},
			{20, "mx.literal.test", "192.0.2.61/additional"},
		}, warnings: []string{mx.TopicIPLiteral}},
		{domain: "dangling.test", rule: mx.RuleMX, canonical: "dangling.test", want: []wantX{
			{10, "nowhere.dangling.test", ""},
		}, warnings: []string{mx.TopicNoAddress, mx.TopicNoneUsable}},
		{domain: "big.test", rule: mx.RuleMX, canonical: "big.test", truncated: true, want: []wantX{
			{10, "mx.big.test", "192.0.2.80/additional"},
		}},
		{domain: "bücher.test", rule: mx.RuleMX, canonical: "xn--bcher-kva.test", want: []wantX{
			{10, "mx.xn--bcher-kva.test", "192.0.2.70/additional"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.domain, func(t *testing.T) {
			res, err := resolver(srv.Addr).Lookup(context.Background(), tc.domain)
			if err != nil {
				t.Fatalf("Lookup(%q): %v", tc.domain, err)
			}
			if res.Rule != tc.rule {
				t.Errorf("Rule = %q, want %q", res.Rule, tc.rule)
			}
			if res.Canonical != tc.canonical {
				t.Errorf("Canonical = %q, want %q", res.Canonical, tc.canonical)
			}
			if len(res.Aliases) != tc.aliases {
				t.Errorf("Aliases = %v, want %d", res.Aliases, tc.aliases)
			}
			if got := describe(res.Exchangers); !slices.Equal(got, tc.want) {
				t.Errorf("Exchangers =\n  %v\nwant\n  %v", got, tc.want)
			}
			if got := topics(res.Warnings); !slices.Equal(got, tc.warnings) {
				t.Errorf("warnings = %v, want %v", got, tc.warnings)
			}
			if res.Truncated != tc.truncated {
				t.Errorf("Truncated = %v, want %v", res.Truncated, tc.truncated)
			}
			if !res.Authoritative || res.Server != srv.Addr || res.RTT <= 0 {
				t.Errorf("Authoritative=%v Server=%q RTT=%v, want true, %q, > 0", res.Authoritative, res.Server, res.RTT, srv.Addr)
			}
			if _, ok := res.Note(mx.TopicRule); !ok {
				t.Errorf("no rule note in %v", topics(res.Notes))
			}
		})
	}
}

func TestLookupRecordsSortedByPreference(t *testing.T) {
	srv := startZone(t)
	res, err := resolver(srv.Addr).Lookup(context.Background(), "multi.test")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res.Records {
		got = append(got, strings.Join([]string{r.Name, r.Class, r.Type, string(rune('0' + r.Preference/10)), r.Exchange}, " "))
		if r.TTL != 3600 {
			t.Errorf("TTL of %s = %d, want 3600", r.Exchange, r.TTL)
		}
	}
	want := []string{"multi.test. IN MX 1 mx1.multi.test.", "multi.test. IN MX 1 mx2.multi.test.", "multi.test. IN MX 2 backup.multi.test."}
	if !slices.Equal(got, want) {
		t.Errorf("Records = %q, want %q", got, want)
	}
	if res.Question != (mx.Question{Name: "multi.test.", Type: "MX", Class: "IN"}) {
		t.Errorf("Question = %+v", res.Question)
	}
}

func TestLookupIDN(t *testing.T) {
	srv := startZone(t)
	res, err := resolver(srv.Addr).Lookup(context.Background(), "BÜCHER.test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Domain.ASCII != "xn--bcher-kva.test" || res.Domain.Unicode != "bücher.test" {
		t.Errorf("Domain = %+v, want xn--bcher-kva.test / bücher.test", res.Domain)
	}
	if res.Exchangers[0].Unicode != "mx.bücher.test" {
		t.Errorf("exchanger Unicode = %q, want mx.bücher.test", res.Exchangers[0].Unicode)
	}
	if _, ok := res.Note(mx.TopicIDN); !ok {
		t.Error("no IDN note")
	}
}

func TestTruncatedAnswerIsAskedAgainOverTCP(t *testing.T) {
	srv := startZone(t)
	if _, err := resolver(srv.Addr).Lookup(context.Background(), "big.test"); err != nil {
		t.Fatal(err)
	}
	got := srv.Queries()
	want := []mxtest.Query{{Name: "big.test.", Type: "MX", Net: "udp"}, {Name: "big.test.", Type: "MX", Net: "tcp"}}
	if !slices.Equal(got, want) {
		t.Errorf("queries = %v, want %v", got, want)
	}
}

func TestTCPOption(t *testing.T) {
	srv := startZone(t)
	r := resolver(srv.Addr)
	r.TCP = true
	res, err := r.Lookup(context.Background(), "noglue.test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Transport != "tcp" || res.Truncated {
		t.Errorf("Transport = %q, Truncated = %v; want tcp, false", res.Transport, res.Truncated)
	}
	for _, q := range srv.Queries() {
		if q.Net != "tcp" {
			t.Errorf("query %v went over %s, want tcp", q, q.Net)
		}
	}
}

func TestRecursiveServerIsNotAuthoritative(t *testing.T) {
	srv := mxtest.Start(t, mxtest.Options{Zone: testZone, Recursive: true})
	res, err := resolver(srv.Addr).Lookup(context.Background(), "multi.test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Authoritative || !res.RecursionAvailable {
		t.Errorf("Authoritative=%v RecursionAvailable=%v, want false, true", res.Authoritative, res.RecursionAvailable)
	}
	if n, _ := res.Note(mx.TopicAuthority); !strings.Contains(n.Summary, "non-authoritative") {
		t.Errorf("authority note = %q", n.Summary)
	}
}

// closedPort returns a loopback UDP address where nothing listens.
func closedPort(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

func TestLookupErrors(t *testing.T) {
	srv := startZone(t)
	tests := []struct {
		name      string
		server    string
		domain    string
		kind      error
		temporary bool
		msg       string
	}{
		{"nxdomain", srv.Addr, "nosuch.test", mx.ErrNXDomain, false, "nosuch.test does not exist: " + srv.Addr + " answered NXDOMAIN"},
		{"servfail", srv.Addr, "broken.test", mx.ErrServerFailure, true, "answered SERVFAIL"},
		{"refused", srv.Addr, "refused.test", mx.ErrRefused, true, "answered REFUSED"},
		{"no mail host", srv.Addr, "empty.test", mx.ErrNoMailHost, false, "no mail host for empty.test: it has no MX record and no A or AAAA record"},
		{"timeout", srv.Addr, "silent.test", mx.ErrTimeout, true, "no answer from " + srv.Addr + " (udp) for silent.test MX after 2 attempts (100ms each)"},
		{"blackhole", mxtest.Blackhole(t), "multi.test", mx.ErrTimeout, true, "after 2 attempts"},
		{"unreachable", closedPort(t), "multi.test", mx.ErrUnreachable, true, "connection refused"},
		{"malformed", srv.Addr, "bad..test", mx.ErrMalformed, false, "empty label"},
		{"address given", srv.Addr, "bob@multi.test", mx.ErrMalformed, false, "give only its domain"},
		{"alias to nowhere", srv.Addr, "alias-gone.test", mx.ErrNXDomain, false, "an alias for gone.test"},
	}
	zone := mxtest.Start(t, mxtest.Options{Zone: "alias-gone.test. 60 CNAME gone.test."})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := tc.server
			if tc.name == "alias to nowhere" {
				server = zone.Addr
			}
			r := &mx.Resolver{Server: server, Timeout: 100 * time.Millisecond, Attempts: 2}
			start := time.Now()
			res, err := r.Lookup(context.Background(), tc.domain)
			if err == nil {
				t.Fatalf("Lookup(%q) = %+v, want error %v", tc.domain, res, tc.kind)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("Lookup(%q) error %v is not %v", tc.domain, err, tc.kind)
			}
			var e *mx.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *mx.Error", err)
			}
			if e.Temporary() != tc.temporary {
				t.Errorf("Temporary() = %v, want %v", e.Temporary(), tc.temporary)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", err, tc.msg)
			}
			if e.Hint() == "" {
				t.Error("no hint")
			}
			// Not a speed goal: 2 attempts of 100 ms must not take the
			// default 2 × 3 s, and 5 s leaves a loaded machine room.
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v; the resolver's Timeout was not honoured", d)
			}
		})
	}
}

func TestTimeoutRetries(t *testing.T) {
	srv := startZone(t)
	r := &mx.Resolver{Server: srv.Addr, Timeout: 50 * time.Millisecond, Attempts: 3}
	_, err := r.Lookup(context.Background(), "silent.test")
	if !errors.Is(err, mx.ErrTimeout) {
		t.Fatalf("err = %v, want timeout", err)
	}
	if n := len(srv.Queries()); n != 3 {
		t.Errorf("server saw %d queries, want 3 (Attempts)", n)
	}
}

func TestContextCancelStopsLookup(t *testing.T) {
	addr := mxtest.Blackhole(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r := &mx.Resolver{Server: addr, Timeout: 10 * time.Second, Attempts: 5}
	start := time.Now()
	_, err := r.Lookup(ctx, "multi.test")
	if err == nil || time.Since(start) > 5*time.Second { // the context's 50 ms, not 5 attempts of 10 s
		t.Fatalf("Lookup = %v after %v; want a prompt error", err, time.Since(start))
	}
}

func TestSystemResolverConfig(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(empty, []byte("# no nameserver lines\nsearch example.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing"), empty} {
		r := &mx.Resolver{ResolvConf: path}
		_, err := r.Lookup(context.Background(), "multi.test")
		if !errors.Is(err, mx.ErrNoResolver) {
			t.Errorf("ResolvConf %s: err = %v, want ErrNoResolver", path, err)
		}
	}
}

func TestOrder(t *testing.T) {
	res := &mx.Result{Exchangers: []mx.Exchanger{
		{Preference: 20, Host: "c"}, {Preference: 10, Host: "a"}, {Preference: 10, Host: "b"},
		{Preference: 30, Host: "d"}, {Preference: 10, Host: "e"},
	}}
	firsts := map[string]bool{}
	for seed := range uint64(64) {
		got := res.Order(rand.New(rand.NewPCG(seed, 1)))
		var hosts []string
		for _, x := range got {
			hosts = append(hosts, x.Host)
		}
		if len(hosts) != 5 || hosts[3] != "c" || hosts[4] != "d" {
			t.Fatalf("Order = %v: preference 10 must come first, then 20, then 30", hosts)
		}
		head := slices.Clone(hosts[:3])
		slices.Sort(head)
		if !slices.Equal(head, []string{"a", "b", "e"}) {
			t.Fatalf("Order = %v: the first three must be the preference-10 hosts", hosts)
		}
		firsts[hosts[0]] = true
	}
	if len(firsts) != 3 {
		t.Errorf("over 64 seeds, only %v came first; equal preferences must be shuffled", firsts)
	}
	if res.Exchangers[0].Host != "c" {
		t.Error("Order changed Exchangers")
	}
}

func TestLookupMisconfigurations(t *testing.T) {
	srv := mxtest.Start(t, mxtest.Options{
		Zone: `
$ORIGIN test.
mixed        60 MX    0 .
mixed        60 MX    10 mx.mixed
mx.mixed     60 A     192.0.2.90
oddnull      60 MX    10 .
sick         60 MX    10 mx.sick
sick         60 MX    20 mx2.sick
mx.sick      60 A     192.0.2.91
mx2.sick     60 A     192.0.2.92
loop1        60 CNAME loop2
loop2        60 CNAME loop1
`,
		NoAdditional: []string{"sick.test"},
		ServFail:     []string{"mx.sick.test"},
	})
	r := resolver(srv.Addr)
	ctx := context.Background()

	res, err := r.Lookup(ctx, "mixed.test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rule != mx.RuleMX || len(res.Exchangers) != 1 || res.Exchangers[0].Host != "mx.mixed.test" ||
		!slices.Equal(topics(res.Warnings), []string{mx.TopicNullMixed}) {
		t.Errorf("mixed: rule %q exchangers %v warnings %v", res.Rule, describe(res.Exchangers), topics(res.Warnings))
	}

	res, err = r.Lookup(ctx, "oddnull.test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rule != mx.RuleNull || res.AcceptsMail() || !slices.Equal(topics(res.Warnings), []string{mx.TopicNullPref}) {
		t.Errorf("oddnull: rule %q warnings %v", res.Rule, topics(res.Warnings))
	}

	res, err = r.Lookup(ctx, "sick.test")
	if err != nil {
		t.Fatal(err)
	}
	got := describe(res.Exchangers)
	if len(got) != 2 || got[0].addrs != "" || got[1].addrs != "192.0.2.92/query" ||
		!strings.Contains(res.Exchangers[0].Error, "SERVFAIL") || !slices.Equal(topics(res.Warnings), []string{mx.TopicHostFailed}) {
		t.Errorf("sick: exchangers %v error %q warnings %v", got, res.Exchangers[0].Error, topics(res.Warnings))
	}
	if order := res.Order(nil); order[0].Usable() || !order[1].Usable() {
		t.Errorf("Order must keep the failed host at its place for reporting: %v", describe(order))
	}

	_, err = r.Lookup(ctx, "loop1.test")
	if !errors.Is(err, mx.ErrBadResponse) || !strings.Contains(err.Error(), "alias loop") {
		t.Errorf("loop1: err = %v, want an alias-loop error", err)
	}
}
