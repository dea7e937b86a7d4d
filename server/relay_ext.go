package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mailx-edu/mailx/proto/mx"
	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/control"
	"github.com/mailx-edu/mailx/server/queue"
	"github.com/mailx-edu/mailx/server/relay"
	"github.com/mailx-edu/mailx/server/scenario"
	srvsmtp "github.com/mailx-edu/mailx/server/smtp"
)

// The relay side of the MTA: remote delivery (server/relay), the retry
// schedule and bounces (server/queue's Schedule and Bouncer), and the
// teaching scenarios (server/scenario) with their control call. New adds
// it after the listeners; registerControlCalls adds CallScenario.

// CallScenario is the control call that switches a domain's scenario:
// args ScenarioArgs, result ScenarioResult.
const CallScenario = "serve.scenario"

// ScenarioArgs asks to switch (Scenario set) or report (empty) the
// scenario of Domain.
type ScenarioArgs struct {
	Domain   string `json:"domain"`
	Scenario string `json:"scenario,omitempty"`
}

// ScenarioResult reports the scenario in force after the call.
type ScenarioResult struct {
	Domain   string            `json:"domain"`
	Scenario scenario.Scenario `json:"scenario"`
	Text     string            `json:"text"`
}

// relayState is what the relay component keeps (MTA.relay), made in
// addRelay and not changed after New.
type relayState struct {
	engine   *scenario.Engine
	schedule queue.Schedule
	client   *relay.Client
}

// Scenario returns the teaching scenario in force.
func (m *MTA) Scenario() scenario.Scenario {
	if m.relay != nil {
		return m.relay.engine.Current()
	}
	return scenario.Scenario{Name: scenario.Normal}
}

// SetScenario switches the teaching scenario at run time.
func (m *MTA) SetScenario(s scenario.Scenario) {
	if m.relay == nil {
		return
	}
	m.relay.engine.Set(s)
	m.log.Info("scenario switched", "scenario", s.String())
	if s.Name == scenario.OpenRelay {
		// The open-relay scenario starts its story (spam_scenario.go).
		go abuseOpenRelay(m)
	}
}

// Schedule returns the retry schedule in force.
func (m *MTA) Schedule() queue.Schedule {
	if m.relay != nil {
		return m.relay.schedule
	}
	return queue.DefaultSchedule
}

// addRelay makes the relay client, the retry schedule and the bouncer, and
// gives them to the queue through QueueOptions.
func (m *MTA) addRelay() error {
	cfg := m.cfg
	scale := cfg.TimeScale
	if scale < 1 {
		scale = 1
	}
	hook := m.trace.hook

	engine := scenario.NewEngine(cfg.Hostname)
	engine.Scale = scale
	doms := make([]string, 0, len(cfg.Scenarios))
	for d := range cfg.Scenarios {
		doms = append(doms, d)
	}
	sort.Strings(doms)
	for _, d := range doms {
		if !m.dir.IsLocalDomain(d) {
			return fmt.Errorf("scenario for %s: it is not a domain of this server (its domains: %s)", d, strings.Join(cfg.Domains, ", "))
		}
		s, err := scenario.Parse(cfg.Scenarios[d])
		if err != nil {
			return err
		}
		engine.Set(s)
	}
	for _, s := range m.smtp {
		s.SetPolicy(scenarioPolicy{engine})
	}

	sched := queue.DefaultSchedule
	if cfg.RetryMin > 0 {
		sched.Min = cfg.RetryMin
	}
	if cfg.RetryMax > 0 {
		sched.Max = cfg.RetryMax
	}
	if cfg.Lifetime > 0 {
		sched.Lifetime = cfg.Lifetime
	}
	sched.Scale, sched.Trace = scale, hook
	bouncer := &queue.Bouncer{ReportingMTA: cfg.Hostname, Trace: hook}
	var once sync.Once
	withQueue := func() { once.Do(func() { bouncer.Queue = m.queue }) }
	if cfg.DelayWarning > 0 {
		sched.WarnAfter = cfg.DelayWarning
		sched.Warn = func(msg *queue.Message, r queue.Recipient, until time.Time) {
			withQueue()
			bouncer.Warn(msg, r, until)
		}
	}
	bouncer.Schedule = sched

	var relayTLS *tls.Config
	if cfg.LabRoots != nil {
		relayTLS = &tls.Config{RootCAs: cfg.LabRoots}
	}
	client := relay.New(relay.Config{
		TLS:       relayTLS,
		Hostname:  cfg.Hostname,
		Resolver:  &mx.Resolver{Server: cfg.DNSServer},
		Routes:    cfg.Routes,
		Smarthost: cfg.Smarthost,
		PortFor:   cfg.LabPort,
		Hops:      cfg.LabHops,
		Trace:     hook,
		SessionID: m.SessionID,
		Logger:    m.log.With("component", "relay"),
	})
	m.QueueOptions.Remote = client
	m.QueueOptions.Policy = sched
	m.QueueOptions.Bounce = func(ctx context.Context, msg *queue.Message, failed []queue.Recipient) error {
		withQueue()
		return bouncer.Bounce(ctx, msg, failed)
	}
	if scale > 1 {
		// Scan for due retries often enough that a scaled wait is not
		// stretched by the scan interval: a tenth of a lesson minute.
		every := time.Duration(float64(6*time.Second) / scale)
		m.QueueOptions.ScanEvery = min(max(every, 20*time.Millisecond), time.Second)
	}
	m.relay = &relayState{engine: engine, schedule: sched, client: client}
	return nil
}

// scenarioCall answers CallScenario: it reports or switches a domain's
// scenario (mailx serve scenario).
func (m *MTA) scenarioCall(_ context.Context, raw json.RawMessage) (any, error) {
	var a ScenarioArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, control.BadRequest("arguments: %v", err)
	}
	d := strings.ToLower(strings.TrimSuffix(a.Domain, "."))
	if d != "" && !m.dir.IsLocalDomain(d) {
		return nil, control.NotFound("%s is not a domain of this server (its domains: %s)", a.Domain, strings.Join(m.cfg.Domains, ", "))
	}
	if d == "" {
		d = m.cfg.Domains[0]
	}
	if a.Scenario != "" {
		s, err := scenario.Parse(a.Scenario)
		if err != nil {
			return nil, control.BadRequest("%v", err)
		}
		m.SetScenario(s)
		m.trace.hook(transcript.Event{Time: time.Now(), Session: "control", Proto: "smtp", Dir: transcript.Meta,
			Line: fmt.Sprintf("scenario of %s switched to %q: %s", d, s.String(), scenario.Descriptions[s.Name])})
	}
	s := m.Scenario()
	return ScenarioResult{Domain: d, Scenario: s, Text: s.String()}, nil
}

// scenarioPolicy adapts a scenario.Engine to the SMTP server's Policy.
type scenarioPolicy struct{ e *scenario.Engine }

func unpack(d *scenario.Decision) (*smtp.Reply, string) {
	if d == nil {
		return nil, ""
	}
	r := d.Reply
	return &r, d.Why
}

func (p scenarioPolicy) Connect(client netip.Addr) (*smtp.Reply, string) {
	return unpack(p.e.Connect(client))
}
func (p scenarioPolicy) Mail(from string) (*smtp.Reply, string) { return unpack(p.e.Mail(from)) }
func (p scenarioPolicy) Rcpt(from, to string) (*smtp.Reply, string) {
	return unpack(p.e.Rcpt(from, to))
}
func (p scenarioPolicy) Data(from string, to []string) (*smtp.Reply, string) {
	return unpack(p.e.Data(from, to))
}
func (p scenarioPolicy) Delay() time.Duration { return p.e.Delay() }

var _ srvsmtp.Policy = scenarioPolicy{}
