package server

import (
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"

	"github.com/mailx-edu/mailx/proto/transcript"

	"github.com/mailx-edu/mailx/server/web"
)

// DefaultWebAddr is where mailx serve offers web mail (server/web).
const DefaultWebAddr = "127.0.0.1:8080"

// WebAuto, as Config.WebAddr, starts web mail at DefaultWebAddr, or on a
// free port when IMAP was given port 0 (tests), and not at all when IMAP
// or submission is off.
const WebAuto = "auto"

// The web mail bridge: an IMAP and submission client of this MTA's own
// listeners, with the same throttle, session ids and trace, so that its
// lines land in DATA/transcripts like every other session's. New adds it
// after POP3 and IMAP.
func (m *MTA) addWeb() error {
	cfg := m.Config()
	addr := cfg.WebAddr
	imapOff, subOff := off(cfg.IMAPAddr), off(cfg.SubmissionAddr)
	if strings.EqualFold(addr, WebAuto) {
		if imapOff || subOff {
			return nil
		}
		addr = DefaultWebAddr
		if _, port, err := net.SplitHostPort(cfg.IMAPAddr); err == nil && port == "0" {
			addr = "127.0.0.1:0"
		}
	}
	if off(addr) {
		return nil
	}
	if err := checkListen("web", addr, cfg.AllowPublic); err != nil {
		return err
	}
	if imapOff || subOff {
		return &ConfigError{"web", "web mail needs the IMAP and submission listeners, and one of them is off",
			`Turn IMAP and submission on, or give --web off.`}
	}
	// Besides DATA/transcripts (complete when a session ends), each web
	// session is written line by line to DATA/web/transcripts, so that a
	// lesson check can read what the bridge did while the student is
	// still logged in.
	live, err := web.TranscriptFiles(filepath.Join(cfg.Data, "web", "transcripts"))
	if err != nil {
		return err
	}
	trace := m.Trace()
	ws, err := web.New(web.Config{
		IMAP:         web.Endpoint{AddrFunc: func() string { return localAddr(m.Addr("imap")) }},
		Submission:   web.Endpoint{AddrFunc: func() string { return localAddr(m.Addr("submission")) }},
		Domain:       cfg.Domains[0],
		Authenticate: m.Directory().Authenticate,
		Throttle:     m.Throttle,
		Trace:        func(ev transcript.Event) { trace(ev); live(ev) },
		SessionID:    m.SessionID,
		Logger:       m.Logger().With("component", "web"),
	})
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	// Off loopback (a classroom server, --public) the pages carry
	// passwords: HTTPS with the server's certificate, never clear HTTP.
	host, _, _ := net.SplitHostPort(addr)
	m.AddService(&Service{Name: "web", Addr: addr, ImplicitTLS: !isLoopbackHost(host), Serve: ws.Serve, Shutdown: ws.Shutdown})
	return nil
}

// localAddr turns a wildcard listen address into a loopback one the
// bridge, on this machine, can connect to.
func localAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	if ip, err := netip.ParseAddr(host); host == "" || err == nil && ip.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return a
}

// labWebAddr is the web mail address of the lab's i-th domain: one bridge
// per domain, on consecutive ports from the one asked for (8080 for
// crepes.test, 8081 for hamburger.test by default).
func labWebAddr(base string, i int, imapAddr string) string {
	if off(base) {
		return "off"
	}
	if strings.EqualFold(base, WebAuto) {
		if off(imapAddr) {
			return "off"
		}
		if _, port, err := net.SplitHostPort(imapAddr); err == nil && port == "0" {
			return "127.0.0.1:0"
		}
		base = DefaultWebAddr
	}
	host, port, err := net.SplitHostPort(base)
	if err != nil {
		return base // checkListen reports it
	}
	var p int
	if _, err := fmt.Sscanf(port, "%d", &p); err != nil || p == 0 {
		return base
	}
	return net.JoinHostPort(host, fmt.Sprint(p+i))
}
