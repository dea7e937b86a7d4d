package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeHardenFlags: the transcript budget and the trusted networks,
// from flags over a config file.
func TestServeHardenFlags(t *testing.T) {
	data := t.TempDir()
	os.WriteFile(filepath.Join(data, "mailx.conf"), []byte("[server]\ntrusted_networks = 192.0.2.0/24\ntranscripts_max_size = 5M\ntranscripts_max_age = 3d\n"), 0o644)
	for _, tc := range []struct {
		args    []string
		size    int64
		age     time.Duration
		trusted string
	}{
		{nil, 5 << 20, 3 * 24 * time.Hour, "192.0.2.0/24"},
		{[]string{"--transcripts-max-size", "unlimited", "--transcripts-max-age", "unlimited", "--trusted-net", "10.0.0.0/8", "--trusted-net", "172.16.0.1"},
			-1, -1, "10.0.0.0/8,172.16.0.1/32"},
		{[]string{"--transcripts-max-size", "1G", "--transcripts-max-age", "36h"}, 1 << 30, 36 * time.Hour, "192.0.2.0/24"},
	} {
		ios, _, _ := TestIO("")
		var got *serveOptions
		c := newServeCmd(ios, func(ctx context.Context, o *serveOptions) error { got = o; return nil })
		c.SetArgs(append([]string{"--data", data}, tc.args...))
		if err := c.Execute(); err != nil {
			t.Fatal(err)
		}
		cfg, err := got.buildConfig()
		if err != nil {
			t.Fatal(err)
		}
		var nets []string
		for _, p := range cfg.TrustedNets {
			nets = append(nets, p.String())
		}
		if cfg.TranscriptsMaxSize != tc.size || cfg.TranscriptsMaxAge != tc.age || strings.Join(nets, ",") != tc.trusted {
			t.Errorf("%v: size %d age %s trusted %v; want %d %s %s", tc.args, cfg.TranscriptsMaxSize, cfg.TranscriptsMaxAge, nets, tc.size, tc.age, tc.trusted)
		}
	}
	ios, _, errOut := TestIO("")
	c := newServeCmd(ios, func(ctx context.Context, o *serveOptions) error { return nil })
	c.SetArgs([]string{"--transcripts-max-age", "forever"})
	if err := c.Execute(); err == nil || !strings.Contains(err.Error()+errOut.String(), `"forever" is not an age such as 14d or 36h, or "unlimited"`) {
		t.Errorf("--transcripts-max-age forever: %v %s", err, errOut)
	}
}
