package server

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/mail"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailx-edu/mailx/proto/auth"
	"github.com/mailx-edu/mailx/proto/dnsbl"
	"github.com/mailx-edu/mailx/proto/mx"
	smtp "github.com/mailx-edu/mailx/proto/smtp"
	"github.com/mailx-edu/mailx/server/scenario"
	srvsmtp "github.com/mailx-edu/mailx/server/smtp"
	"github.com/mailx-edu/mailx/server/spam"
)

// Sender authentication and spam: the SMTP server's Checker (server/smtp),
// built from proto/auth (SPF, DKIM, DMARC), proto/dnsbl (blocklists) and
// server/spam (score and learning filter).
//
// Outgoing mail (authenticated users, relay networks) is signed with DKIM
// for the sender's domain when it is one of this server's. Incoming mail,
// when the checks are on, is checked and gets Authentication-Results:,
// X-Spam-Status: and X-Spam-Report: at the top; DMARC's policy and the
// score then decide: quarantine or spam → the recipient's Junk folder,
// reject or a score past the reject level → 550 5.7.1 at the end of DATA.
// New adds it last, after the SMTP servers and the relay client it attaches to.

// spamState is what the spam component keeps (MTA.spam), made in addSpam
// and not changed after New.
type spamState struct {
	keys    *dkimKeyring // nil when signing is off
	filter  *spam.Filter
	checker *checker
}

// ChecksOn reports whether cfg checks incoming mail.
func (c Config) ChecksOn() bool {
	switch strings.ToLower(c.Spam.Checks) {
	case "on", "true", "yes":
		return true
	case "off", "false", "no":
		return false
	}
	return c.Lab || c.LabPort != nil || len(c.Spam.DNSBL) > 0
}

// DKIMKeys returns the server's DKIM keys made so far and the records to
// publish (see DKIMReady).
func (m *MTA) DKIMKeys() []DKIMKey {
	if m.spam != nil && m.spam.keys != nil {
		return m.spam.keys.published()
	}
	return nil
}

// DKIMReady is closed once every DKIM key exists (a new RSA key is made in
// the background on the first start).
func (m *MTA) DKIMReady() <-chan struct{} {
	if m.spam != nil && m.spam.keys != nil {
		return m.spam.keys.ready
	}
	c := make(chan struct{})
	close(c)
	return c
}

// SpamFilter returns the learning filter (nil when off).
func (m *MTA) SpamFilter() *spam.Filter {
	if m.spam != nil {
		return m.spam.filter
	}
	return nil
}

// addSpam makes the DKIM keyring, the learning filter and the checker, and
// gives the checker to the SMTP listeners that need it.
func (m *MTA) addSpam() error {
	cfg := m.cfg
	st := &spamState{}
	if !cfg.Spam.NoSign {
		var made func(DKIMKey)
		if dns := cfg.Spam.LabDNS; dns != nil {
			made = func(k DKIMKey) { dns.AddExtra(k.Domain, txtRR(k.Name, k.Record)) }
		}
		ring, err := newKeyring(cfg.Data, cfg.Domains, func(d string, err error) {
			m.log.Error("dkim: cannot make the RSA key; signing with Ed25519 only", "domain", d, "err", err)
		}, made)
		if err != nil {
			return err
		}
		st.keys = ring
		// The key being made writes into the data directory: wait for it.
		m.OnShutdown(func(context.Context) error { <-ring.ready; return nil })
	}
	checksOn := cfg.ChecksOn()
	if checksOn {
		st.filter = spam.NewFilter(filepath.Join(cfg.Data, "spam"), spam.Corpus("ham"))
	}
	threshold := cfg.Spam.Threshold
	if threshold == 0 {
		threshold = spam.DefaultThreshold
	}
	reject := cfg.Spam.Reject
	if reject == 0 {
		reject = spam.DefaultReject
	}
	action := strings.ToLower(cfg.Spam.DNSBLAction)
	if action == "" {
		action = "reject"
	}
	if action != "reject" && action != "score" {
		return &ConfigError{"dnsbl-action", fmt.Sprintf("%q is neither reject nor score", cfg.Spam.DNSBLAction), "Write --dnsbl-action reject (refuse listed clients at RCPT) or --dnsbl-action score."}
	}
	ck := &checker{
		m: m, keys: st.keys, checks: checksOn, filter: st.filter,
		res:       &mx.Resolver{Server: cfg.DNSServer},
		threshold: threshold, reject: reject, action: action, zones: cfg.Spam.DNSBL,
		labDomains: cfg.Spam.LabDomains,
	}
	st.checker = ck
	for _, s := range m.smtp {
		s.SetXClientNets(cfg.TrustedNets) // the one --trusted-net: also spared by the login throttle
		// A listener gets the checker when it checks incoming mail, or
		// takes outgoing mail to sign (submission, or relay networks on
		// port 25). Otherwise it keeps streaming messages straight into
		// the queue, as fast as before.
		sign := st.keys != nil && (s.IsSubmission() || len(cfg.RelayNets) > 0)
		if checksOn || sign {
			s.SetChecker(ck)
		}
	}
	if m.relay != nil && cfg.Spam.LabAddr.IsValid() {
		m.relay.client.SetXClient(func() (netip.Addr, string) {
			if m.Scenario().Name == scenario.Spoof {
				return LabSpammer, "[UNAVAILABLE]"
			}
			return cfg.Spam.LabAddr, cfg.Hostname
		})
	}
	m.spam = st
	return nil
}

// checker implements srvsmtp.Checker.
type checker struct {
	m          *MTA
	keys       *dkimKeyring // nil: signing is off
	checks     bool
	filter     *spam.Filter
	res        *mx.Resolver
	threshold  float64
	reject     float64
	action     string
	zones      []DNSBLZone
	labDomains []string

	blMu    sync.Mutex
	blCache map[string]blEntry // zone + " " + address → recent answer
}

// blEntry is a blocklist answer kept for a while: a client naming a hundred
// recipients costs one query per zone, not a hundred.
type blEntry struct {
	res     dnsbl.Result
	expires time.Time
}

// Bounds of the blocklist cache: answers are kept a minute (lab lists
// change while a class watches), and at most this many.
const (
	blCacheTTL  = time.Minute
	blCacheSize = 4096
)

// blocklist asks zone about addr, through the cache.
func (c *checker) blocklist(ctx context.Context, addr netip.Addr, zone string) dnsbl.Result {
	key := zone + " " + addr.String()
	if l := c.m.cfg.Spam.LabDNS; l != nil {
		// The lab's list changes while a class watches: a change makes
		// every cached answer stale at once.
		key += " " + strconv.FormatInt(l.Generation(), 10)
	}
	now := time.Now()
	c.blMu.Lock()
	if e, ok := c.blCache[key]; ok && now.Before(e.expires) {
		c.blMu.Unlock()
		return e.res
	}
	c.blMu.Unlock()
	r := dnsbl.Check(ctx, c.res, addr, zone)
	if r.Error != "" {
		return r // a failed lookup is not kept
	}
	c.blMu.Lock()
	if c.blCache == nil || len(c.blCache) >= blCacheSize {
		c.blCache = map[string]blEntry{}
	}
	c.blCache[key] = blEntry{res: r, expires: now.Add(blCacheTTL)}
	c.blMu.Unlock()
	return r
}

// Client refuses a client listed on a blocklist zone at RCPT, when the
// blocklists reject.
func (c *checker) Client(ctx context.Context, ci srvsmtp.ClientInfo, from, to string) (*smtp.Reply, []string) {
	if !c.checks || c.action != "reject" || ci.Trusted || ci.Auth != "" || len(c.zones) == 0 {
		return nil, nil
	}
	var notes []string
	for _, z := range c.zones {
		r := c.blocklist(ctx, ci.Addr, z.Zone)
		notes = append(notes, fmt.Sprintf("dnsbl: %s? %s", r.Query, r.Meaning))
		if r.Listed {
			reply := smtp.NewReply(554, "5.7.1", dnsbl.RejectText(ci.Addr, r.Zone, r.Reason))
			return &reply, notes
		}
	}
	return nil, notes
}

// Message signs outgoing mail and checks incoming mail.
func (c *checker) Message(ctx context.Context, in *srvsmtp.Incoming) srvsmtp.Verdict {
	if in.Submission || in.Client.Auth != "" || in.Client.Trusted {
		return c.sign(in)
	}
	if !c.checks {
		return srvsmtp.Verdict{}
	}
	return c.check(ctx, in)
}

// sign adds DKIM signatures for the From: domain when it is one of ours.
func (c *checker) sign(in *srvsmtp.Incoming) srvsmtp.Verdict {
	if c.m.Scenario().Name == scenario.Spoof {
		return srvsmtp.Verdict{Notes: []string{"dkim: not signed (scenario spoof: a forger has no key of the domain it pretends to be)"}}
	}
	header, _ := auth.SplitMessage(in.Text)
	from, problem := auth.FromDomain(auth.Fields(header))
	if problem != "" {
		return srvsmtp.Verdict{Notes: []string{"dkim: not signed: " + problem}}
	}
	if c.keys == nil {
		return srvsmtp.Verdict{}
	}
	keys := c.keys.signing(from)
	if len(keys) == 0 {
		return srvsmtp.Verdict{Notes: []string{"dkim: not signed: " + from + " is not a domain of this server, so it has no key for it"}}
	}
	sigs, err := auth.SignDKIM(in.Text, from, keys, time.Now())
	if err != nil {
		return srvsmtp.Verdict{Notes: []string{"dkim: not signed: " + err.Error()}}
	}
	var sels []string
	for _, k := range keys {
		sels = append(sels, k.Selector)
	}
	return srvsmtp.Verdict{
		Text:  append([]byte(sigs), in.Text...),
		Notes: []string{fmt.Sprintf("dkim: signed for %s with selectors %s (keys at SELECTOR._domainkey.%s)", from, strings.Join(sels, " and "), from)},
	}
}

// Checked is everything the checks found about one message.
type Checked struct {
	Auth   auth.Verdicts  `json:"auth"`
	DNSBL  []dnsbl.Result `json:"dnsbl,omitempty"`
	Score  spam.Score     `json:"score"`
	Bayes  *spam.Verdict  `json:"bayes,omitempty"`
	Forged int            `json:"forged_results_removed,omitempty"`
}

// check runs SPF, DKIM, DMARC, the blocklists and the score.
func (c *checker) check(ctx context.Context, in *srvsmtp.Incoming) srvsmtp.Verdict {
	sc := c.m.Scenario()
	var pre []string
	if sc.Name == scenario.ListFooter {
		in.Text = appendFooter(in.Text)
		pre = append(pre, "scenario list-footer: the list appended a footer to the body before the checks")
	}
	v := c.checkText(ctx, in)
	v.Notes = append(pre, v.Notes...)
	if sc.Name == scenario.Forward && v.Reject == nil {
		v.Notes = append(v.Notes, c.forward(in, v, sc.User))
	}
	return v
}

// checkText checks in.Text as it is.
func (c *checker) checkText(ctx context.Context, in *srvsmtp.Incoming) srvsmtp.Verdict {
	header, body := auth.SplitMessage(in.Text)
	clean, forged := auth.StripForged(header, in.Hostname)
	var v srvsmtp.Verdict
	if forged > 0 {
		v.Notes = append(v.Notes, fmt.Sprintf("removed %d Authentication-Results field(s) claiming to be from %s: forged by the sender (RFC 8601 §5)", forged, in.Hostname))
	}
	clean, spamFields := stripSpamFields(clean)
	if spamFields > 0 {
		v.Notes = append(v.Notes, fmt.Sprintf("removed %d X-Spam-* field(s) the sender wrote: only this server's verdict counts", spamFields))
	}
	fields := auth.Fields(clean)
	var av auth.Verdicts
	av.SPF = auth.CheckSPF(ctx, c.res, in.Client.Addr, in.Client.Helo, in.From)
	av.DKIM = auth.VerifyDKIM(ctx, c.res, in.Text, false)
	av.DMARC = auth.CheckDMARC(ctx, c.res, fields, av.SPF, av.DKIM)
	v.Notes = append(v.Notes, authNotes(av)...)

	var score spam.Score
	// A client on this very machine that did not announce another address
	// (a student typing SMTP at the lab, a local program) is trusted as
	// Postfix trusts mynetworks: its SPF and DMARC verdicts are recorded
	// but neither scored nor enforced. The lab's own servers, and smtp
	// talk --as, announce their addresses with XCLIENT and are judged.
	local := in.Client.Addr.IsLoopback()
	if local {
		score.Add("LOCAL_CLIENT", 0, fmt.Sprintf("the client is this machine (%s, no XCLIENT): trusted like Postfix's mynetworks; SPF and DMARC are recorded above but not held against it", in.Client.Addr))
		v.Notes = append(v.Notes, "the client is on loopback and announced no other address: SPF and DMARC verdicts are recorded, not enforced (use smtp talk --as ADDRESS to be judged)")
	}
	switch spfResult := av.SPF.Result; {
	case local:
	case spfResult == "fail":
		score.Add("SPF_FAIL", 0, fmt.Sprintf("SPF fail: %s may not send for %s (%s)", av.SPF.IP, av.SPF.Domain, orText(av.SPF.Matched, "no term matched")))
	case spfResult == "softfail":
		score.Add("SPF_SOFTFAIL", 0, fmt.Sprintf("SPF softfail: %s is probably not a sender of %s", av.SPF.IP, av.SPF.Domain))
	case spfResult == "permerror":
		score.Add("SPF_PERMERROR", 0, "SPF permerror for "+av.SPF.Domain+": "+av.SPF.Error)
	}
	for _, s := range av.DKIM.Signatures {
		if s.Result == "fail" || s.Result == "permerror" {
			score.Add("DKIM_FAIL", 0, fmt.Sprintf("DKIM %s for d=%s s=%s: %s", s.Result, s.Domain, s.Selector, s.Error))
			break
		}
	}
	if av.DMARC.Result == "fail" && !local {
		score.Add("DMARC_FAIL", 0, fmt.Sprintf("DMARC fail for From: %s (p=%s): neither SPF nor DKIM passed aligned with it", av.DMARC.FromDomain, av.DMARC.Policy))
	}
	if c.action == "score" {
		for _, z := range c.zones {
			r := c.blocklist(ctx, in.Client.Addr, z.Zone)
			v.Notes = append(v.Notes, fmt.Sprintf("dnsbl: %s? %s", r.Query, r.Meaning))
			if r.Listed {
				w := z.Weight
				if w == 0 {
					w = spam.Rules["RBL_LISTED"].Points
				}
				score.Add("RBL_LISTED", w, fmt.Sprintf("%s is listed on %s: %s", in.Client.Addr, z.Zone, orText(r.Reason, "no reason given")))
			}
		}
	}
	c.headerRules(&score, fields, clean, body)

	// The learning filter judges per user; its rule goes into the fields
	// when the message has one local user, and into each folder decision.
	users := c.localUsers(in.To)
	bayes := map[string]spam.Verdict{}
	if c.filter != nil {
		for _, u := range users {
			if bv, err := c.filter.Classify(u, in.Text); err == nil {
				bayes[u] = bv
			}
		}
	}
	shown := score
	if len(users) == 1 {
		if bv, ok := bayes[users[0]]; ok && bv.Trained {
			if r := spam.BayesRule(bv.Prob); r != "" {
				shown.Add(r, 0, fmt.Sprintf("%s (%.1f%% for %s's filter, trained on %d spam and %d ham)", spam.Rules[r].Meaning, bv.Prob*100, users[0], bv.Spam, bv.Ham))
			}
		}
	}
	shown.Finish(c.threshold)
	v.Notes = append(v.Notes, fmt.Sprintf("spam score %.1f (required %.1f): %s", shown.Total, shown.Threshold, strings.Join(orNone(shown.Tests()), ", ")))

	// Refusals: DMARC p=reject, then a score past the reject level.
	if av.DMARC.Result == "fail" && av.DMARC.Disposition == "reject" && !local {
		r := smtp.NewReply(550, "5.7.1", fmt.Sprintf("rejected by the DMARC policy of %s: neither SPF (%s) nor DKIM (%s) passed for a domain aligned with From: (RFC 7489)",
			av.DMARC.FromDomain, av.SPF.Result, av.DKIM.Result))
		v.Reject = &r
		return v
	}
	if c.reject > 0 && shown.Total >= c.reject {
		r := smtp.NewReply(550, "5.7.1", "message refused as spam: "+shown.Summary())
		v.Reject = &r
		return v
	}

	// Folders: DMARC quarantine or a score at the threshold → Junk.
	v.Folders = map[string]string{}
	for _, to := range in.To {
		u, ok := c.m.dir.Resolve(to)
		if !ok {
			continue
		}
		total := score.Total
		if bv, ok := bayes[u]; ok && bv.Trained {
			if r := spam.BayesRule(bv.Prob); r != "" {
				total += spam.Rules[r].Points
			}
		}
		switch {
		case av.DMARC.Result == "fail" && av.DMARC.Disposition == "quarantine" && !local:
			v.Folders[to] = "Junk"
			v.Notes = append(v.Notes, fmt.Sprintf("%s's copy goes to Junk: DMARC policy of %s is quarantine", to, av.DMARC.FromDomain))
		case total >= c.threshold:
			v.Folders[to] = "Junk"
			v.Notes = append(v.Notes, fmt.Sprintf("%s's copy goes to Junk: score %.1f ≥ %.1f", to, math.Round(total*10)/10, c.threshold))
		}
	}
	var top strings.Builder
	top.WriteString(auth.ResultsField(in.Hostname, av))
	top.WriteString(shown.StatusField())
	top.WriteString(shown.ReportField())
	text := make([]byte, 0, top.Len()+len(in.Text))
	text = append(text, top.String()...)
	text = append(text, clean...)
	text = append(text, in.Text[len(header):]...)
	v.Text = text
	return v
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func orNone(s []string) []string {
	if len(s) == 0 {
		return []string{"no rule fired"}
	}
	return s
}

// authNotes are the trace lines of the three verdicts.
func authNotes(av auth.Verdicts) []string {
	spfWhy := av.SPF.Matched
	if spfWhy == "" {
		spfWhy = orText(av.SPF.Error, "no record")
	}
	out := []string{fmt.Sprintf("spf=%s: %s for %s from %s (%s)", av.SPF.Result, av.SPF.Identity, av.SPF.Domain, av.SPF.IP, spfWhy)}
	if len(av.DKIM.Signatures) == 0 {
		out = append(out, "dkim=none: the message is not signed")
	}
	for _, s := range av.DKIM.Signatures {
		l := fmt.Sprintf("dkim=%s: d=%s s=%s a=%s", s.Result, s.Domain, s.Selector, s.Algorithm)
		if s.Error != "" {
			l += " (" + s.Error + ")"
		}
		out = append(out, l)
	}
	out = append(out, fmt.Sprintf("dmarc=%s: From: %s; %s", av.DMARC.Result, orText(av.DMARC.FromDomain, "?"), strings.Join(av.DMARC.Reasons, "; ")))
	return out
}

// localUsers returns the distinct local accounts among the recipients.
func (c *checker) localUsers(to []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range to {
		if u, ok := c.m.dir.Resolve(a); ok && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

// dateTolerance is how far Date: may be from the arrival before
// DATE_FAR_OFF: a day covers wrong time zones and slow queues.
const dateTolerance = 24 * time.Hour

// headerRules adds the rules that look at the header and body.
func (c *checker) headerRules(score *spam.Score, fields []auth.Field, header, body []byte) {
	if auth.Get(fields, "Message-ID") == "" {
		score.Add("MISSING_MID", 0, "")
	}
	if d := auth.Get(fields, "Date"); d == "" {
		score.Add("MISSING_DATE", 0, "")
	} else if t, err := mail.ParseDate(d); err == nil {
		if off := time.Since(t); off > dateTolerance || off < -dateTolerance {
			score.Add("DATE_FAR_OFF", 0, fmt.Sprintf("the Date: is %s away from the arrival time", roundDur(off)))
		}
	}
	ct := strings.ToLower(auth.Get(fields, "Content-Type"))
	if strings.HasPrefix(ct, "text/html") || (strings.HasPrefix(ct, "multipart/") && bytes.Contains(bytes.ToLower(body), []byte("text/html")) && !bytes.Contains(bytes.ToLower(body), []byte("text/plain"))) {
		score.Add("HTML_ONLY", 0, "")
	}
	if from := auth.Get(fields, "From"); from != "" {
		if a, err := mail.ParseAddress(from); err == nil && a.Name != "" {
			real := auth.DomainOf(a.Address)
			name := strings.ToLower(a.Name)
			for _, d := range c.spoofable() {
				if d != real && strings.Contains(name, "@"+d) {
					score.Add("FROM_NAME_SPOOF", 0, fmt.Sprintf("the display name %q shows an address at %s, but the message is from %s", a.Name, d, a.Address))
					break
				}
			}
			if !strings.Contains(name, "@"+real) && strings.Count(name, "@") > 0 && !score.Has("FROM_NAME_SPOOF") {
				score.Add("FROM_NAME_SPOOF", 0, fmt.Sprintf("the display name %q shows another address than the real one, %s", a.Name, a.Address))
			}
		}
	}
}

// spoofable are the domains a display name must not pretend to: this
// server's and the lab's.
func (c *checker) spoofable() []string {
	out := append([]string{}, c.m.cfg.Domains...)
	return append(out, c.labDomains...)
}

func roundDur(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	return (d / time.Hour * time.Hour).String()
}

// DNSBLZones parses --dnsbl values.
func ParseDNSBL(v string) (DNSBLZone, error) {
	zone, w, hasW := strings.Cut(v, "=")
	zone = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(zone), "."))
	if _, err := mx.ParseDomain(zone); err != nil || !strings.Contains(zone, ".") {
		return DNSBLZone{}, fmt.Errorf("%q is not a blocklist zone such as bl.lab.test or zen.spamhaus.org", v)
	}
	z := DNSBLZone{Zone: zone}
	if hasW {
		var f float64
		if _, err := fmt.Sscanf(w, "%g", &f); err != nil || f < -100 || f > 100 {
			return DNSBLZone{}, fmt.Errorf("%q: the weight after = must be a number such as 3.5", v)
		}
		z.Weight = f
	}
	return z, nil
}

var _ srvsmtp.Checker = (*checker)(nil)

// stripSpamFields removes X-Spam-Status, X-Spam-Report and X-Spam-Flag
// fields already in a message: a sender could write "X-Spam-Status: No" to
// fool filters in mail programs, and only this server's verdict may stand.
func stripSpamFields(header []byte) ([]byte, int) {
	fields := auth.Fields(header)
	n := 0
	var b strings.Builder
	for _, f := range fields {
		switch strings.ToLower(f.Name) {
		case "x-spam-status", "x-spam-report", "x-spam-flag":
			n++
			continue
		}
		b.WriteString(f.Raw)
	}
	if n == 0 {
		return header, 0
	}
	return []byte(b.String()), n
}
