package cmd

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/mailx-edu/mailx/server"
	"github.com/mailx-edu/mailx/server/accounts"
	"github.com/mailx-edu/mailx/server/queue"
)

// TestServeFlagGroups checks that bindServeFlags defines a flag of every
// part of the server, each writing into the Config it was given, and that
// the help lists them.
func TestServeFlagGroups(t *testing.T) {
	var cfg server.Config
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	bindServeFlags(fs, &cfg)
	args := []string{
		"--smtp", "127.0.0.1:2626", // addSMTPFlags
		"--imap", "off", // addAccessFlags
		"--web", "127.0.0.1:8181", // addWebFlags
		"--smarthost", "relay.test:25", // addRelayFlags
		"--dnsbl-action", "score", // addSpamFlags
		"--trusted-net", "10.0.0.0/8", // addHardenFlags
	}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if cfg.SMTPAddr != "127.0.0.1:2626" || cfg.IMAPAddr != "off" || cfg.WebAddr != "127.0.0.1:8181" ||
		cfg.Smarthost != "relay.test:25" || cfg.Spam.DNSBLAction != "score" || len(cfg.TrustedNets) != 1 {
		t.Errorf("after %q: config = %+v", args, cfg)
	}

	ios, out, _ := TestIO("")
	c := newServeCmd(ios, nil)
	c.SetOut(ios.Out)
	c.SetArgs([]string{"--help"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"--smtp", "--pop3", "--web", "--lab", "--checks", "--transcripts-max-size", "--data", "--trace"} {
		if !strings.Contains(out.String(), "      "+flag+" ") {
			t.Errorf("mailx serve --help does not list %s:\n%s", flag, out)
		}
	}
	for _, sub := range []string{"blocklist", "dkim", "scenario", "user"} {
		if !strings.Contains(out.String(), "\n  "+sub+" ") {
			t.Errorf("mailx serve --help does not list the subcommand %s:\n%s", sub, out)
		}
	}
}

// TestServeErrorLocked starts a second server on a data directory another
// one holds: the error must say to stop the other server, found by
// errors.Is(err, queue.ErrLocked), not by the message's text.
func TestServeErrorLocked(t *testing.T) {
	old := accounts.HashCost
	accounts.HashCost = 4 // bcrypt's minimum: the test checks the lock, not the hashes
	t.Cleanup(func() { accounts.HashCost = old })
	cfg := server.Config{Data: t.TempDir(), Users: []accounts.Credential{{Name: "alice", Password: "pw"}}}
	for _, a := range []*string{&cfg.SMTPAddr, &cfg.SubmissionAddr, &cfg.POP3Addr, &cfg.IMAPAddr, &cfg.WebAddr} {
		*a = "off"
	}
	first, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Shutdown(context.Background()) })
	_, err = server.New(cfg)
	if !errors.Is(err, queue.ErrLocked) {
		t.Fatalf("second server.New on one data directory: err = %v, want queue.ErrLocked", err)
	}
	var ue *UserError
	if !errors.As(serveError(err, cfg), &ue) || ue.Code != ExitFailure || !strings.Contains(ue.Hint, "Stop the other server") {
		t.Errorf("serveError(%v) = %#v, want exit 1 with the hint to stop the other server", err, ue)
	}
}

// TestServeRepeatedFlagsOverConfigFile gives repeatable flags twice while a
// config file is read: each value must arrive whole (a flag's String joins
// the values with commas, and a DNSBL weight is not in it).
func TestServeRepeatedFlagsOverConfigFile(t *testing.T) {
	data := t.TempDir()
	conf := "[server]\ndomains = crepes.test\n[routes]\nfile.test = 127.0.0.1:9\n"
	if err := os.WriteFile(filepath.Join(data, "mailx.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ios, _, _ := TestIO("")
	var got *serveOptions
	c := newServeCmd(ios, func(ctx context.Context, o *serveOptions) error { got = o; return nil })
	c.SetArgs([]string{"--data", data,
		"--route", "a.test=127.0.0.1:1", "--route", "b.test=127.0.0.1:2",
		"--scenario", "a.test=down", "--scenario", "b.test=reject-next 451",
		"--dnsbl", "bl.lab.test=3", "--dnsbl", "zen.spamhaus.org=4"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	cfg, err := got.buildConfig()
	if err != nil {
		t.Fatal(err)
	}
	wantRoutes := map[string]string{"file.test": "127.0.0.1:9", "a.test": "127.0.0.1:1", "b.test": "127.0.0.1:2"}
	if !maps.Equal(cfg.Routes, wantRoutes) {
		t.Errorf("routes = %v, want %v", cfg.Routes, wantRoutes)
	}
	wantScen := map[string]string{"a.test": "down", "b.test": "reject-next 451"}
	if !maps.Equal(cfg.Scenarios, wantScen) {
		t.Errorf("scenarios = %v, want %v", cfg.Scenarios, wantScen)
	}
	wantBL := []server.DNSBLZone{{Zone: "bl.lab.test", Weight: 3}, {Zone: "zen.spamhaus.org", Weight: 4}}
	if !slices.Equal(cfg.Spam.DNSBL, wantBL) {
		t.Errorf("dnsbl = %v, want %v", cfg.Spam.DNSBL, wantBL)
	}
}
