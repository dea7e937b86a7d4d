package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/proto/mx/mxtest"
	"github.com/mailx-edu/mailx/proto/testkit"
)

// startMXZone serves testdata/mx/zone.txt with the misbehaviours the tests
// need, on a loopback port.
func startMXZone(t *testing.T) *mxtest.Server {
	t.Helper()
	zone, err := os.ReadFile("testdata/mx/zone.txt")
	if err != nil {
		t.Fatal(err)
	}
	return mxtest.Start(t, mxtest.Options{
		Zone:         string(zone),
		NoAdditional: []string{"noglue.test"},
		ServFail:     []string{"broken.test"},
		Refuse:       []string{"refused.test"},
		Drop:         []string{"silent.test"},
		Truncate:     []string{"big.test"},
	})
}

// runMX runs `mailx ARGS...` in process and returns stdout, stderr and the
// exit code.
func runMX(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ios, out, errOut := TestIO("")
	code := run(context.Background(), args, ios)
	return out.String(), errOut.String(), code
}

func TestMXLookupFlags(t *testing.T) {
	var got *mxLookupOptions
	record := func(_ context.Context, o *mxLookupOptions) error { got = o; return nil }
	ios, _, _ := TestIO("")
	c := newMXLookupCmd(ios, record)
	c.SetArgs([]string{"bücher.test", "--server", "127.0.0.1:5353", "--tcp", "--timeout", "750ms", "--retries", "3", "--short"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	want := mxLookupOptions{IO: ios, Domain: "bücher.test", Server: "127.0.0.1:5353", TCP: true, Timeout: 750 * time.Millisecond, Retries: 3, Short: true}
	if *got != want {
		t.Errorf("opts = %+v, want %+v", *got, want)
	}

	c = newMXLookupCmd(ios, record)
	c.SetArgs([]string{"example.test"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Timeout != 3*time.Second || got.Retries != 1 || got.Server != "" || got.TCP || got.JSON {
		t.Errorf("defaults = %+v, want timeout 3s, 1 retry, system resolver, UDP, text", *got)
	}
}

func TestMXLookupUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"mx", "lookup"}, "mailx: missing the DOMAIN to look up"},
		{[]string{"mx", "lookup", "a.test", "b.test"}, "mailx: too many arguments: b.test"},
		{[]string{"mx", "lookup", "a.test", "--json", "--short"}, "--json and --short cannot be used together"},
		{[]string{"mx", "lookup", "a.test", "--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"mx", "lookup", "a.test", "--timeout", "soon"}, "invalid argument \"soon\""},
		{[]string{"mx", "lookup", "a.test", "--retries", "-1"}, "--retries must be from 0 to 10"},
		{[]string{"mx", "lookup", "a.test", "--server", "127.0.0.1:99999"}, "invalid --server"},
		{[]string{"mx", "lookup", "a..test", "--server", "127.0.0.1:9"}, "mailx: invalid domain: \"a..test\" has an empty label"},
		{[]string{"mx", "lookup", "bob@a.test", "--server", "127.0.0.1:9"}, "give only its domain, the part after @ (a.test)"},
		{[]string{"mx", "lookup", "192.0.2.1", "--server", "127.0.0.1:9"}, "is an IP address, not a domain"},
		{[]string{"mx", "nosuch"}, "mailx: unknown command \"nosuch\" for \"mailx mx\""},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := runMX(t, tc.args...)
			if code != ExitUsage {
				t.Errorf("exit = %d, want %d (usage)", code, ExitUsage)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
			if !strings.Contains(lines[0], tc.msg) || !strings.HasPrefix(lines[0], "mailx: ") {
				t.Errorf("stderr first line = %q, want it to contain %q", lines[0], tc.msg)
			}
			if len(lines) < 2 || lines[1] == "" {
				t.Errorf("stderr = %q, want a message line and a hint", errOut)
			}
		})
	}
}

// TestMXLookupGolden compares the plain output for each situation with
// testdata/mx/<name>.golden; the round-trip time is pinned and the server's
// port is written as PORT.
func TestMXLookupGolden(t *testing.T) {
	srv := startMXZone(t)
	rtt := 1500 * time.Microsecond
	for _, tc := range []struct{ name, domain string }{
		{"multi", "multi.test"},
		{"noglue", "noglue.test"},
		{"implicit", "implicit.test"},
		{"null", "null.test"},
		{"alias", "alias.test"},
		{"mxalias", "mxalias.test"},
		{"literal", "literal.test"},
		{"dangling", "dangling.test"},
		{"truncated", "big.test"},
		{"idn", "bücher.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, out, _ := TestIO("")
			opts := &mxLookupOptions{IO: ios, Domain: tc.domain, Server: srv.Addr, Timeout: 2 * time.Second, fixedRTT: &rtt}
			if err := runMXLookup(context.Background(), opts); err != nil {
				t.Fatalf("runMXLookup(%s): %v", tc.domain, err)
			}
			got := strings.ReplaceAll(out.String(), srv.Addr, "127.0.0.1:PORT")
			if strings.Contains(got, "\x1b[") {
				t.Error("plain output contains colour escapes")
			}
			testkit.Golden(t, "testdata/mx/"+tc.name+".golden", []byte(got))
		})
	}
}

func TestMXLookupColour(t *testing.T) {
	srv := startMXZone(t)
	ios, out, _ := TestIO("")
	ios.StdoutTTY = true
	if err := runMXLookup(context.Background(), &mxLookupOptions{IO: ios, Domain: "multi.test", Server: srv.Addr, Timeout: 2 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\x1b[") {
		t.Error("terminal output has no colour")
	}
}

// mxJSON is the documented --json shape, decoded strictly enough to catch a
// renamed field.
type mxJSON struct {
	Question  struct{ Name, Type, Class string }
	Domain    struct{ Input, ASCII, Unicode string }
	Canonical string
	Aliases   []struct {
		Name, Target string
		TTL          uint32
	}
	Records []struct {
		Name, Class, Type, Exchange string
		TTL                         uint32
		Preference                  uint16
	}
	Exchangers []struct {
		Preference uint16
		Host       string
		Unicode    string
		Implicit   bool
		AliasFor   string `json:"alias_for"`
		IPLiteral  bool   `json:"ip_literal"`
		Addresses  []struct{ Name, Type, IP, Source string }
	}
	Rule          string
	Server        string
	Transport     string
	RTTMillis     float64 `json:"rtt_ms"`
	Authoritative bool
	Truncated     bool
	Warnings      []struct{ Topic, Summary, Severity string }
	Notes         []struct{ Topic, Summary, Ref string }
}

func TestMXLookupJSON(t *testing.T) {
	srv := startMXZone(t)
	lookup := func(domain string) mxJSON {
		t.Helper()
		out, errOut, code := runMX(t, "mx", "lookup", domain, "--json", "--server", srv.Addr, "--timeout", "2s")
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if strings.Count(out, "\n") != 1 {
			t.Errorf("--json printed %d lines, want one object on one line", strings.Count(out, "\n"))
		}
		var v mxJSON
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("decode %s: %v", out, err)
		}
		return v
	}

	v := lookup("multi.test")
	if v.Rule != "mx" || v.Server != srv.Addr || v.Transport != "udp" || v.RTTMillis <= 0 || !v.Authoritative {
		t.Errorf("rule %q server %q transport %q rtt %v aa %v", v.Rule, v.Server, v.Transport, v.RTTMillis, v.Authoritative)
	}
	if v.Question.Name != "multi.test." || v.Question.Type != "MX" || v.Question.Class != "IN" {
		t.Errorf("question = %+v", v.Question)
	}
	var recs []string
	for _, r := range v.Records {
		recs = append(recs, fmt.Sprintf("%s %d %s %s %d %s", r.Name, r.TTL, r.Class, r.Type, r.Preference, r.Exchange))
	}
	want := "multi.test. 3600 IN MX 10 mx1.multi.test.|multi.test. 3600 IN MX 10 mx2.multi.test.|multi.test. 3600 IN MX 20 backup.multi.test."
	if got := strings.Join(recs, "|"); got != want {
		t.Errorf("records = %s\nwant      %s", got, want)
	}
	if len(v.Exchangers) != 3 || len(v.Exchangers[0].Addresses) != 2 ||
		v.Exchangers[0].Addresses[1].IP != "2001:db8::1" || v.Exchangers[0].Addresses[1].Source != "additional" {
		t.Errorf("exchangers = %+v", v.Exchangers)
	}
	if len(v.Notes) == 0 || len(v.Warnings) != 0 {
		t.Errorf("notes %d, warnings %v", len(v.Notes), v.Warnings)
	}

	v = lookup("implicit.test")
	if v.Rule != "implicit" || len(v.Exchangers) != 1 || !v.Exchangers[0].Implicit || v.Exchangers[0].Addresses[0].Source != "query" {
		t.Errorf("implicit: %+v", v)
	}
	v = lookup("null.test")
	if v.Rule != "null" || len(v.Exchangers) != 0 || len(v.Records) != 1 || v.Records[0].Exchange != "." {
		t.Errorf("null: %+v", v)
	}
	v = lookup("bücher.test")
	if v.Domain.ASCII != "xn--bcher-kva.test" || v.Domain.Unicode != "bücher.test" || v.Exchangers[0].Unicode != "mx.bücher.test" {
		t.Errorf("idn: %+v", v.Domain)
	}
	v = lookup("mxalias.test")
	if len(v.Warnings) != 1 || v.Warnings[0].Topic != "mx-alias" || v.Warnings[0].Severity != "warning" || v.Exchangers[0].AliasFor != "host.mxalias.test." {
		t.Errorf("mxalias: %+v %+v", v.Warnings, v.Exchangers)
	}
	v = lookup("alias.test")
	if len(v.Aliases) != 2 || v.Canonical != "real.test" {
		t.Errorf("alias: %+v canonical %q", v.Aliases, v.Canonical)
	}
	v = lookup("big.test")
	if !v.Truncated || v.Transport != "tcp" {
		t.Errorf("big: truncated %v transport %q", v.Truncated, v.Transport)
	}
}

func TestMXLookupShort(t *testing.T) {
	srv := startMXZone(t)
	for domain, want := range map[string]string{
		"multi.test":    "10 mx1.multi.test.\n10 mx2.multi.test.\n20 backup.multi.test.\n",
		"implicit.test": "0 implicit.test.\n",
		"null.test":     "0 .\n",
		"bücher.test":   "10 mx.xn--bcher-kva.test.\n",
	} {
		out, errOut, code := runMX(t, "mx", "lookup", domain, "--short", "--server", srv.Addr)
		if code != ExitOK || out != want {
			t.Errorf("--short %s = %q (exit %d, %s), want %q", domain, out, code, errOut, want)
		}
	}
}

func TestMXLookupFailures(t *testing.T) {
	srv := startMXZone(t)
	closed, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.LocalAddr().String()
	closed.Close()
	tests := []struct {
		name   string
		args   []string
		msg    string
		hint   string
		expect int
	}{
		{"nxdomain", []string{"nosuch.test", "--server", srv.Addr},
			"mailx: nosuch.test does not exist: " + srv.Addr + " answered NXDOMAIN", "Check the spelling", ExitFailure},
		{"servfail", []string{"broken.test", "--server", srv.Addr},
			"mailx: lookup of broken.test failed: " + srv.Addr + " answered SERVFAIL (server failure)", "Try again later", ExitFailure},
		{"refused", []string{"refused.test", "--server", srv.Addr},
			"answered REFUSED", "the lab DNS", ExitFailure},
		{"timeout", []string{"silent.test", "--server", srv.Addr, "--timeout", "100ms", "--retries", "1"},
			"mailx: no answer from " + srv.Addr + " (udp) for silent.test MX after 2 attempts (100ms each)", "raise --timeout", ExitFailure},
		{"timeout over tcp", []string{"silent.test", "--server", srv.Addr, "--timeout", "100ms", "--retries", "0", "--tcp"},
			"(tcp) for silent.test MX after 1 attempt (100ms each)", "Is a DNS server running there?", ExitFailure},
		{"unreachable", []string{"multi.test", "--server", closedAddr},
			"mailx: cannot reach DNS server " + closedAddr + " (udp): connection refused", "Is a DNS server listening there?", ExitFailure},
		{"no mail host", []string{"empty.test", "--server", srv.Addr},
			"mailx: no mail host for empty.test: it has no MX record and no A or AAAA record", "RFC 5321 §5.1", ExitFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runMX(t, append([]string{"mx", "lookup"}, tc.args...)...)
			if code != tc.expect {
				t.Errorf("exit = %d, want %d", code, tc.expect)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing", out)
			}
			lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
			if len(lines) != 2 || !strings.Contains(lines[0], tc.msg) || !strings.Contains(lines[1], tc.hint) {
				t.Errorf("stderr =\n%s\nwant a line containing %q and a hint containing %q", errOut, tc.msg, tc.hint)
			}
		})
	}
}

// TestMXLookupBinary drives the built binary as a shell does.
func TestMXLookupBinary(t *testing.T) {
	bin := buildBinary(t)
	srv := startMXZone(t)
	mailx := func(args ...string) (string, string, int) {
		c := exec.Command(bin, args...)
		c.Env = append(os.Environ(), "NO_COLOR=1")
		var out, errOut strings.Builder
		c.Stdout, c.Stderr = &out, &errOut
		err := c.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}

	out, errOut, code := mailx("mx", "lookup", "multi.test", "--server", srv.Addr)
	if code != 0 || errOut != "" {
		t.Fatalf("happy path: exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"== MX lookup for multi.test", "multi.test.", "IN  MX     10 mx1.multi.test.", "192.0.2.1", "note: preference"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	_, errOut, code = mailx("mx", "lookup", "nosuch.test", "--server", srv.Addr)
	if code != 1 || !strings.HasPrefix(errOut, "mailx: nosuch.test does not exist: "+srv.Addr+" answered NXDOMAIN\nCheck the spelling.") {
		t.Errorf("nxdomain: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = mailx("mx", "lookup", "exa mple.test", "--server", srv.Addr)
	if code != 2 || !strings.HasPrefix(errOut, "mailx: invalid domain: ") || strings.Count(errOut, "\n") != 2 {
		t.Errorf("malformed: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = mailx("mx", "lookup", "silent.test", "--server", srv.Addr, "--timeout", "50ms", "--retries", "0")
	if code != 1 || !strings.Contains(errOut, "no answer from") {
		t.Errorf("timeout: exit %d, stderr %q", code, errOut)
	}
}

// TestMXLookupDnsmasq asks a real DNS server that no one here wrote:
// Debian's dnsmasq, serving MX and address records from its command line on
// a loopback port.
func TestMXLookupDnsmasq(t *testing.T) {
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/dnsmasq"); serr != nil {
			t.Skip("dnsmasq not installed (Debian package dnsmasq-base); .ci/run installs it")
		}
		bin = "/usr/sbin/dnsmasq"
	}
	addr := startDnsmasq(t, bin,
		"--mx-host=lab.test,mx1.lab.test,10",
		"--mx-host=lab.test,mx2.lab.test,10",
		"--mx-host=lab.test,backup.lab.test,20",
		"--host-record=mx1.lab.test,192.0.2.11",
		"--host-record=mx2.lab.test,192.0.2.12,2001:db8::12",
		"--host-record=backup.lab.test,192.0.2.13",
		"--host-record=plain.lab.test,192.0.2.30",
		"--local=/lab.test/",
	)

	out, errOut, code := runMX(t, "mx", "lookup", "lab.test", "--json", "--server", addr)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var v mxJSON
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	var got []string
	for _, x := range v.Exchangers {
		var ips []string
		for _, a := range x.Addresses {
			ips = append(ips, a.IP)
		}
		got = append(got, fmt.Sprintf("%d %s %s", x.Preference, x.Host, strings.Join(ips, ",")))
	}
	want := "10 mx1.lab.test 192.0.2.11|10 mx2.lab.test 192.0.2.12,2001:db8::12|20 backup.lab.test 192.0.2.13"
	if v.Rule != "mx" || strings.Join(got, "|") != want {
		t.Errorf("dnsmasq lab.test: rule %q exchangers\n  %s\nwant\n  %s", v.Rule, strings.Join(got, "|"), want)
	}

	out, errOut, code = runMX(t, "mx", "lookup", "plain.lab.test", "--server", addr, "--tcp")
	if code != ExitOK || !strings.Contains(out, "implicit MX") || !strings.Contains(out, "192.0.2.30") {
		t.Errorf("implicit over TCP: exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = runMX(t, "mx", "lookup", "nosuch.lab.test", "--server", addr)
	if code != ExitFailure || !strings.Contains(errOut, "answered NXDOMAIN") {
		t.Errorf("nxdomain: exit %d, stderr %q", code, errOut)
	}
}

// startDnsmasq runs dnsmasq in the foreground on a free loopback port with
// only the given records, waits until it reports that it has started, and
// stops it in t.Cleanup.
func startDnsmasq(t *testing.T, bin string, records ...string) string {
	t.Helper()
	var lastErr string
	for range 5 {
		// Find a port free for both UDP and TCP; dnsmasq binds both.
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		pc.Close()
		args := append([]string{
			"--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll",
			"--pid-file=", "--log-facility=-", "--listen-address=127.0.0.1", "--bind-interfaces",
			fmt.Sprintf("--port=%d", port),
		}, records...)
		if os.Geteuid() == 0 {
			args = append(args, "--user=root", "--group=root")
		}
		c := exec.Command(bin, args...)
		stderr, err := c.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(); err != nil {
			t.Fatalf("start dnsmasq: %v", err)
		}
		// dnsmasq logs "started, version ..." once its sockets are bound, or
		// exits with a message when it cannot bind (the port was taken).
		// started receives "" when ready, else what dnsmasq said.
		started := make(chan string, 1)
		go func() {
			var log strings.Builder
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				log.WriteString(sc.Text() + "\n")
				if strings.Contains(sc.Text(), "started, version") {
					started <- ""
					for sc.Scan() {
					}
					return
				}
			}
			started <- log.String()
		}()
		var msg string
		select {
		case msg = <-started:
		case <-time.After(10 * time.Second):
			msg = "no \"started\" line within 10 s"
		}
		if msg == "" {
			t.Cleanup(func() {
				c.Process.Kill()
				c.Wait()
			})
			return fmt.Sprintf("127.0.0.1:%d", port)
		}
		c.Process.Kill()
		c.Wait()
		lastErr = msg
	}
	t.Fatalf("dnsmasq did not start:\n%s", lastErr)
	return ""
}

// TestMXLookupIssue19: --json prints an object on stdout even when the
// lookup fails; a timeout over --tcp does not suggest --tcp; REFUSED from a
// DNS server on this machine (the lab DNS) is about the lab's domains, not
// about recursive resolvers.
func TestMXLookupIssue19(t *testing.T) {
	srv := startMXZone(t)
	out, stderr, code := runMX(t, "mx", "lookup", "refused.test", "--json", "--server", srv.Addr, "--timeout", "2s")
	var f mxFailure
	if code != ExitFailure || json.Unmarshal([]byte(out), &f) != nil || f.Error.Kind != "refused" || f.Domain != "refused.test" || f.Error.Hint == "" {
		t.Errorf("--json on failure: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if !strings.Contains(stderr, "lab DNS") || !strings.Contains(stderr, "crepes.test") || strings.Contains(stderr, "use a recursive resolver") {
		t.Errorf("REFUSED from a loopback server: %q", stderr)
	}
	hole := mxtest.Blackhole(t)
	_, stderr, _ = runMX(t, "mx", "lookup", "a.test", "--server", hole, "--tcp", "--timeout", "200ms", "--retries", "0")
	if strings.Contains(stderr, "try --tcp") || !strings.Contains(stderr, "without --tcp") {
		t.Errorf("timeout over TCP: %q", stderr)
	}
	_, stderr, _ = runMX(t, "mx", "lookup", "a.test", "--server", hole, "--timeout", "200ms", "--retries", "0")
	if !strings.Contains(stderr, "try --tcp") {
		t.Errorf("timeout over UDP: %q", stderr)
	}
}

// TestSMTPTalkMXLab: smtp talk --mx DOMAIN --dns-server LAB-DNS connects
// to the port the lab DNS publishes for the exchanger (SRV
// _smtp._tcp.EXCHANGER), not to port 25, and a failed lookup names
// --dns-server, the flag of this command.
func TestSMTPTalkMXLab(t *testing.T) {
	m := startTalkServe(t)
	_, port, _ := net.SplitHostPort(m.Addr("smtp"))
	srv := mxtest.Start(t, mxtest.Options{Zone: "hamburger.test. 60 IN MX 10 mx.hamburger.test.\n" +
		"mx.hamburger.test. 60 IN A 127.0.0.1\n" +
		"_smtp._tcp.mx.hamburger.test. 60 IN SRV 0 0 " + port + " mx.hamburger.test.\n" +
		"nosrv.test. 60 IN MX 10 mx.nosrv.test.\nmx.nosrv.test. 60 IN A 127.0.0.1\n",
		Refuse: []string{"typo.test"}})
	out, stderr, code := runMailx(t, "EHLO student.test\nQUIT\n", "smtp", "talk", "--mx", "hamburger.test", "--dns-server", srv.Addr)
	if code != 0 || !strings.Contains(out, "Connected to 127.0.0.1:"+port) || !strings.Contains(out, "port "+port+" from the lab DNS") {
		t.Errorf("--mx in the lab: exit %d, stderr %q\n%s", code, stderr, out)
	}
	_, stderr, code = runMailx(t, "QUIT\n", "smtp", "talk", "--mx", "typo.test", "--dns-server", srv.Addr)
	if code != ExitFailure || !strings.Contains(stderr, "lab DNS") || strings.Contains(strings.ReplaceAll(stderr, "--dns-server", ""), "--server") {
		t.Errorf("refused --mx lookup: exit %d, stderr %q", code, stderr)
	}
	// Without a published port, talk tries port 25, where nothing should
	// listen on a test machine; a local Postfix (the benchmarks' peer) would
	// answer instead, and then the failure cannot be seen.
	if c, err := net.DialTimeout("tcp", "127.0.0.1:25", time.Second); err == nil {
		c.Close()
		t.Skip("something listens on 127.0.0.1:25 (a local MTA): cannot check the lab exchanger without a published port")
	}
	_, stderr, code = runMailx(t, "QUIT\n", "smtp", "talk", "--mx", "nosrv.test", "--dns-server", srv.Addr, "--timeout", "2s")
	if code != ExitFailure || !strings.Contains(stderr, "add --port N") {
		t.Errorf("a lab exchanger without a published port: exit %d, stderr %q", code, stderr)
	}
}
