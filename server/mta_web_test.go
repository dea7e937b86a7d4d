package server

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestLabWebAddr(t *testing.T) {
	for _, tc := range []struct {
		base       string
		i          int
		imap, want string
	}{
		{WebAuto, 0, "127.0.0.1:1430", "127.0.0.1:8080"},
		{WebAuto, 1, "127.0.0.1:1431", "127.0.0.1:8081"},
		{WebAuto, 1, "127.0.0.1:0", "127.0.0.1:0"},
		{WebAuto, 0, "off", "off"},
		{"off", 1, "127.0.0.1:1431", "off"},
		{"127.0.0.1:9000", 2, "127.0.0.1:1432", "127.0.0.1:9002"},
	} {
		if got := labWebAddr(tc.base, tc.i, tc.imap); got != tc.want {
			t.Errorf("labWebAddr(%q, %d, %q) = %q, want %q", tc.base, tc.i, tc.imap, got, tc.want)
		}
	}
}

// TestWebService: "auto" starts web mail beside IMAP (on a free port when
// IMAP has one), stays off without IMAP, and an explicit address without
// IMAP is a configuration error.
func TestWebService(t *testing.T) {
	base := Config{SMTPAddr: "127.0.0.1:0", SubmissionAddr: "127.0.0.1:0", POP3Addr: "off"}
	c := base
	c.Data, c.IMAPAddr, c.WebAddr = t.TempDir(), "127.0.0.1:0", WebAuto
	m, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		m.Shutdown(ctx)
	}()
	addr := m.Addr("web")
	if addr == "" || addr == DefaultWebAddr {
		t.Fatalf("web at %q, want a free port", addr)
	}
	resp, err := http.Get("http://" + addr + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /login: %d", resp.StatusCode)
	}

	c = base
	c.Data, c.IMAPAddr, c.WebAddr = t.TempDir(), "off", WebAuto
	m2, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if a := m2.Addr("web"); a != "" {
		t.Errorf("web at %q with IMAP off", a)
	}
	m2.Shutdown(context.Background())

	c = base
	c.Data, c.IMAPAddr, c.WebAddr = t.TempDir(), "off", "127.0.0.1:0"
	var ce *ConfigError
	if _, err := New(c); !errors.As(err, &ce) || ce.Setting != "web" {
		t.Errorf("web without IMAP: %v, want a ConfigError for web", err)
	}
}
