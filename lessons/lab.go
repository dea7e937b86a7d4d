package lessons

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/mailx-edu/mailx/server"
	"github.com/mailx-edu/mailx/server/accounts"
	"github.com/mailx-edu/mailx/server/control"
	"github.com/mailx-edu/mailx/server/labdns"
	"github.com/mailx-edu/mailx/server/maildir"
	"github.com/mailx-edu/mailx/server/scenario"
)

// runningLab is a lesson's lab: server.Lab (one MTA per domain, each on its
// own free loopback ports with its own queue and mailboxes, and the lab DNS
// that publishes their MX records, so relaying between them goes over real
// SMTP found by MX, as on the Internet), plus the lesson's extra DNS records.
type runningLab struct {
	ws  Workspace
	lab *server.Lab
}

// StartLab starts what spec asks for, with fresh data under the workspace
// (the previous run's lab data is removed; progress is kept). Everything
// listens on 127.0.0.1 with ports chosen by the system, so a lesson never
// collides with a `mailx serve` the student left running.
func StartLab(ctx context.Context, spec LabSpec, ws Workspace) (Lab, error) {
	return StartLabWith(ctx, spec, ws, LabOptions{})
}

// LabOptions say how to start a lab.
type LabOptions struct {
	// Keep continues with the lab data a previous run left (mailboxes,
	// queues), for a resumed lesson; otherwise the data starts fresh.
	Keep bool
	// Addrs are the addresses a previous run had ({smtp:hill.test} →
	// 127.0.0.1:PORT). The lab asks for the same ports and takes free ones
	// when any of them is taken now.
	Addrs map[string]string
}

// StartLabWith is StartLab with options.
func StartLabWith(ctx context.Context, spec LabSpec, ws Workspace, o LabOptions) (Lab, error) {
	labDir := filepath.Join(ws.Dir, "lab")
	keep := false
	if o.Keep {
		if _, err := os.Stat(labDir); err == nil {
			keep = true
		}
	}
	if !keep {
		if err := os.RemoveAll(labDir); err != nil {
			return nil, fmt.Errorf("lessons: clear the old lab: %w", err)
		}
	}
	if len(o.Addrs) > 0 {
		l, err := startLab(ctx, spec, ws, labDir, keep, o.Addrs)
		if err == nil {
			return l, nil
		}
		// A port of the last run is taken now: any free ports will do.
	}
	return startLab(ctx, spec, ws, labDir, keep, nil)
}

func startLab(ctx context.Context, spec LabSpec, ws Workspace, labDir string, keep bool, addrs map[string]string) (Lab, error) {
	want := func(key string) string {
		if a, ok := addrs[key]; ok {
			if host, _, err := net.SplitHostPort(a); err == nil && host == "127.0.0.1" {
				return a
			}
		}
		return "127.0.0.1:0"
	}
	base := server.Config{Lifetime: spec.Lifetime, Logger: slog.New(slog.DiscardHandler)}
	if spec.Lifetime > 0 {
		// Retry often enough that a short lesson lifetime sees several attempts.
		base.RetryMin, base.RetryMax = spec.Lifetime/8, spec.Lifetime/4
	}
	if spec.MaxSize > 0 {
		base.Limits.MessageSize = spec.MaxSize
	}
	if spec.Web {
		// One web mail bridge per domain, on a free port each (a resumed
		// lesson's pages are reloaded from {web:DOMAIN} anyway).
		base.WebAddr = "127.0.0.1:0"
	}
	cfg := server.LabConfig{Data: labDir, DNSAddr: want("dns"), NoMail: []string{}, Base: base}
	for _, d := range spec.Domains {
		ld := server.LabDomain{Domain: d.Name, SMTPAddr: want("smtp:" + d.Name), SubmissionAddr: want("submission:" + d.Name),
			POP3Addr: want("pop3:" + d.Name), IMAPAddr: want("imap:" + d.Name)}
		if d.Scenario != scenario.Normal {
			ld.Scenario = d.Scenario
		}
		for _, u := range d.Users {
			ld.Users = append(ld.Users, accounts.Credential{Name: u.Name, Password: u.Password})
		}
		cfg.Domains = append(cfg.Domains, ld)
	}
	lab, err := server.NewLab(cfg)
	if err != nil {
		return nil, fmt.Errorf("lessons: %w", err)
	}
	l := &runningLab{ws: ws, lab: lab}
	ok := false
	defer func() {
		if !ok {
			l.Close()
		}
	}()
	extra, err := extraZones(spec)
	if err != nil {
		return nil, err
	}
	for _, b := range spec.Blocklist {
		if err := lab.DNS.List(server.LabBlocklist, b.Addr, b.Reason); err != nil {
			return nil, fmt.Errorf("lessons: blocklist %s: %w", b.Addr, err)
		}
	}
	if len(extra) > 0 {
		if err := lab.DNS.SetZones(append(lab.DNS.Zones(), extra...)); err != nil {
			return nil, fmt.Errorf("lessons: %w", err)
		}
	}
	for _, d := range spec.Domains {
		if keep {
			break // the mailboxes are as the student left them
		}
		for _, msg := range d.Messages {
			if err := preload(lab.MTA(d.Name), d.Name, msg); err != nil {
				return nil, err
			}
		}
	}
	if err := lab.Start(ctx); err != nil {
		return nil, fmt.Errorf("lessons: %w", err)
	}
	if err := os.MkdirAll(ws.WorkDir(), 0o700); err != nil {
		return nil, fmt.Errorf("lessons: %w", err)
	}
	for _, f := range spec.Files {
		data, err := Asset(f)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(ws.WorkDir(), f), data, 0o600); err != nil {
			return nil, fmt.Errorf("lessons: copy %s: %w", f, err)
		}
	}
	ok = true
	return l, nil
}

// extraZones groups the lesson's extra records into zones by their last
// two labels (school.test), published beside the lab's mail domains.
func extraZones(spec LabSpec) ([]labdns.Zone, error) {
	var zones []labdns.Zone
	extra := map[string][]dns.RR{}
	for _, s := range spec.Records {
		rr, err := dns.NewRR(s)
		if err != nil {
			return nil, fmt.Errorf("lessons: record %q: %w", s, err)
		}
		labels := dns.SplitDomainName(rr.Header().Name)
		if len(labels) < 2 {
			return nil, fmt.Errorf("lessons: record %q: the name needs at least two labels, such as school.test", s)
		}
		apex := strings.ToLower(strings.Join(labels[len(labels)-2:], "."))
		extra[apex] = append(extra[apex], rr)
	}
	apexes := make([]string, 0, len(extra))
	for a := range extra {
		apexes = append(apexes, a)
	}
	sort.Strings(apexes)
	for _, a := range apexes {
		zones = append(zones, labdns.Zone{Domain: a, Records: extra[a]})
	}
	return zones, nil
}

// preload puts a message straight into a user's Maildir, as if it had been
// delivered before the lesson began.
func preload(m *server.MTA, domain string, msg LabMessage) error {
	from := msg.From
	if from == "" {
		from = "teacher@" + domain
	}
	text := fmt.Sprintf("Return-Path: <%s>\r\nFrom: %s\r\nTo: %s@%s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d.%s@%s>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n",
		from, from, msg.To, domain, msg.Subject, time.Now().Format(time.RFC1123Z), time.Now().UnixNano(), msg.To, domain,
		strings.ReplaceAll(strings.TrimRight(msg.Body, "\n"), "\n", "\r\n"))
	root := m.MailRoot(msg.To)
	if err := maildir.Create(root); err != nil {
		return fmt.Errorf("lessons: preload for %s: %w", msg.To, err)
	}
	if _, err := maildir.Deliver(root, strings.NewReader(text), maildir.DeliverOptions{}); err != nil {
		return fmt.Errorf("lessons: preload for %s: %w", msg.To, err)
	}
	return nil
}

func (l *runningLab) DataDir(domain string) string { return l.ws.LabDir(domain) }

func (l *runningLab) Queue(domain string) ([]QueueEntry, error) {
	m := l.lab.MTA(domain)
	if m == nil {
		return nil, fmt.Errorf("the lab has no domain %q", domain)
	}
	var out []QueueEntry
	for _, s := range m.Queue().List() {
		for _, r := range s.Recipients {
			out = append(out, QueueEntry{ID: s.ID, Recipient: r.Addr, State: string(r.State), LastError: r.LastError(),
				Attempts: len(r.Attempts), NextAttempt: r.NextAttempt})
		}
	}
	return out, nil
}

func (l *runningLab) Addr(kind, domain string) string {
	if kind == "dns" {
		return l.lab.DNS.Addr()
	}
	if m := l.lab.MTA(domain); m != nil {
		return m.Addr(kind)
	}
	return ""
}

func (l *runningLab) Placeholders() map[string]string {
	out := map[string]string{"dns": l.lab.DNS.Addr()}
	for i, d := range l.lab.Domains {
		for _, k := range []string{"smtp", "submission", "pop3", "imap"} {
			out[k+":"+d.Domain] = l.lab.MTAs[i].Addr(k)
		}
		out["data:"+d.Domain] = shellWord(l.ws.LabDir(d.Domain))
		for _, u := range d.Users {
			addr := u.Name + "@" + d.Domain
			for _, folder := range []string{"", "Junk"} {
				if f := newestMessage(l.ws.LabDir(d.Domain), u.Name, folder); f != "" {
					key := "message:" + addr
					if folder != "" {
						key += "/" + folder
					}
					out[key] = shellWord(f)
				}
			}
		}
		if a := l.lab.MTAs[i].Addr("web"); a != "" {
			out["web:"+d.Domain] = "http://" + a
		}
	}
	return out
}

func (l *runningLab) Do(ctx context.Context, action string) error {
	f := strings.Fields(action)
	if len(f) < 2 {
		return fmt.Errorf("unknown lab action %q", action)
	}
	m := l.lab.MTA(f[1])
	if m == nil {
		return fmt.Errorf("the lab has no domain %q", f[1])
	}
	switch {
	case f[0] == "scenario" && len(f) >= 3:
		s, err := scenario.Parse(strings.Join(f[2:], " "))
		if err != nil {
			return err
		}
		m.SetScenario(s)
		return nil
	case f[0] == "retry" && len(f) == 2:
		var errs []error
		for _, s := range m.Queue().List() {
			if err := m.Queue().Retry(s.ID); err != nil {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	return fmt.Errorf("unknown lab action %q", action)
}

func (l *runningLab) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return l.lab.Shutdown(ctx)
}

// Blocklist returns what the lab's blocklist lists now (without the RFC
// 5782 test entries).
func (l *runningLab) Blocklist() ([]BlockEntry, error) {
	var out []BlockEntry
	for _, e := range l.lab.DNS.Listed(server.LabBlocklist) {
		if !e.Test {
			out = append(out, BlockEntry{Addr: e.Addr, Reason: e.Reason})
		}
	}
	return out, nil
}

// storedLab is a stopped lab on disk, for `mailx lessons check`.
type storedLab struct{ ws Workspace }

// StoredLab returns a view of the lab data a lesson left in its workspace.
func StoredLab(ws Workspace) LabView { return storedLab{ws} }

func (l storedLab) DataDir(domain string) string { return l.ws.LabDir(domain) }

func (l storedLab) Queue(domain string) ([]QueueEntry, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	admin, err := control.OpenQueue(ctx, l.ws.LabDir(domain))
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	list, err := admin.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []QueueEntry
	for _, s := range list {
		for _, r := range s.Recipients {
			out = append(out, QueueEntry{ID: s.ID, Recipient: r.Addr, State: string(r.State), LastError: r.LastError()})
		}
	}
	return out, nil
}

// Blocklist reads the blocklist the lab saved in lab/blocklist.json when a
// scenario listed an address (open-relay). The lesson's own lab.blocklist
// entries are not in that file: they are listed again at every start.
func (l storedLab) Blocklist() ([]BlockEntry, error) {
	b, err := os.ReadFile(filepath.Join(l.ws.Dir, "lab", "blocklist.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f struct {
		Entries []struct {
			Addr   netip.Addr `json:"addr"`
			Reason string     `json:"reason"`
			Test   bool       `json:"test"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("the lab's blocklist.json is damaged: %w", err)
	}
	var out []BlockEntry
	for _, e := range f.Entries {
		if !e.Test {
			out = append(out, BlockEntry{Addr: e.Addr, Reason: e.Reason})
		}
	}
	return out, nil
}

// shellWord quotes a path for a command line when it holds spaces or quotes
// (a Windows user folder often does), the way SplitCommandLine reads it back.
func shellWord(s string) string {
	if !strings.ContainsAny(s, " \t'\"\\") {
		return s
	}
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

// newestMessage returns the file of the message delivered last into a
// user's folder, or "".
func newestMessage(dataDir, user, folder string) string {
	root := maildir.Root(dataDir, user)
	if folder != "" {
		root = filepath.Join(root, "."+folder)
	}
	newest, newestTime := "", time.Time{}
	for _, sub := range []string{maildir.New, maildir.Cur} {
		entries, err := os.ReadDir(filepath.Join(root, sub))
		if err != nil {
			continue
		}
		for _, e := range entries {
			fi, err := e.Info()
			if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			if newest == "" || !fi.ModTime().Before(newestTime) {
				newest, newestTime = filepath.Join(root, sub, e.Name()), fi.ModTime()
			}
		}
	}
	return newest
}
