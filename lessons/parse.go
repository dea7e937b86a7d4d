package lessons

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"go.yaml.in/yaml/v3"

	"github.com/mailx-edu/mailx/proto/imap"
	"github.com/mailx-edu/mailx/proto/pop3"
	"github.com/mailx-edu/mailx/proto/smtp"
)

// Problem is one mistake in a lesson file, with the line it is on.
type Problem struct {
	File string
	Line int
	Msg  string
}

// String formats the problem the way compilers do: "file:line: message".
func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Problems is every mistake found in one file; it is an error.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Parse reads and validates a lesson file. On any mistake it returns
// Problems listing all of them, sorted by line.
func Parse(file string, data []byte) (*Lesson, error) {
	p := &parser{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.add(yamlErrorLine(err), "not valid YAML: %s", yamlErrorText(err))
		return nil, p.problems
	}
	if len(doc.Content) == 0 {
		p.add(1, "the file is empty: a lesson needs at least name, title and steps")
		return nil, p.problems
	}
	l := p.lesson(doc.Content[0])
	l.Source = file
	if len(p.problems) > 0 {
		sort.SliceStable(p.problems, func(i, j int) bool { return p.problems[i].Line < p.problems[j].Line })
		return nil, p.problems
	}
	return l, nil
}

type parser struct {
	file     string
	problems Problems
}

func (p *parser) add(line int, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

func yamlErrorLine(err error) int {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 1
}

func yamlErrorText(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	return yamlLine.ReplaceAllString(s, "here")
}

// fields reads a mapping node into key → value nodes, reporting keys that are
// not in allowed and keys given twice.
func (p *parser) fields(n *yaml.Node, what string, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n.Kind != yaml.MappingNode {
		p.add(n.Line, "%s must be a mapping of keys to values (key: value), not %s", what, kindName(n))
		return out
	}
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !ok[k.Value] {
			p.add(k.Line, "unknown key %q in %s; allowed keys: %s", k.Value, what, strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.add(k.Line, "key %q appears twice in %s", k.Value, what)
			continue
		}
		out[k.Value] = v
	}
	return out
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "that"
}

func (p *parser) str(n *yaml.Node, what string) string {
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.add(n.Line, "%s must be text, not %s", what, kindName(n))
		return ""
	}
	return n.Value
}

func (p *parser) required(m map[string]*yaml.Node, key string, parent *yaml.Node, what string) string {
	v, ok := m[key]
	if !ok {
		p.add(parent.Line, "%s is missing %q", what, key)
		return ""
	}
	s := p.str(v, key)
	if strings.TrimSpace(s) == "" && v.Kind == yaml.ScalarNode {
		p.add(v.Line, "%q must not be empty", key)
	}
	return s
}

func (p *parser) list(n *yaml.Node, what string) []*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.add(n.Line, "%s must be a list (lines starting with \"- \"), not %s", what, kindName(n))
		return nil
	}
	return n.Content
}

func (p *parser) regex(n *yaml.Node, what string) *regexp.Regexp {
	s := p.str(n, what)
	if n == nil || s == "" {
		return nil
	}
	re, err := regexp.Compile("(?i)" + s)
	if err != nil {
		p.add(n.Line, "%s is not a valid regular expression: %v", what, strings.Replace(strings.TrimPrefix(err.Error(), "error parsing regexp: "), "(?i)", "", 1))
		return nil
	}
	return re
}

// boolean reads a yes/no field: true, yes or on; false, no or off (any
// case). A missing field is false.
func (p *parser) boolean(n *yaml.Node, what string) bool {
	if n == nil {
		return false
	}
	switch strings.ToLower(p.str(n, what)) {
	case "true", "yes", "on":
		return true
	case "false", "no", "off":
	default:
		p.add(n.Line, "%s must be true or false, not %q", what, n.Value)
	}
	return false
}

func (p *parser) integer(n *yaml.Node, what string) *int {
	if n == nil {
		return nil
	}
	v, err := strconv.Atoi(p.str(n, what))
	if err != nil {
		p.add(n.Line, "%s must be a whole number, not %q", what, n.Value)
		return nil
	}
	return &v
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
var domainPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

func (p *parser) lesson(root *yaml.Node) *Lesson {
	l := &Lesson{}
	m := p.fields(root, "the lesson", "name", "title", "order", "summary", "goals", "lab", "steps", "answers")
	if root.Kind != yaml.MappingNode {
		return l
	}
	l.Name = p.required(m, "name", root, "the lesson")
	if l.Name != "" && !namePattern.MatchString(l.Name) {
		p.add(m["name"].Line, "name %q must be lower-case letters, digits and hyphens (it is typed on the command line)", l.Name)
	}
	l.Title = p.required(m, "title", root, "the lesson")
	l.Summary = p.str(m["summary"], "summary")
	if o := p.integer(m["order"], "order"); o != nil {
		l.Order = *o
	}
	for _, g := range p.list(m["goals"], "goals") {
		l.Goals = append(l.Goals, p.str(g, "a goal"))
	}
	if lab, ok := m["lab"]; ok {
		l.Lab = p.lab(lab)
	}
	steps, ok := m["steps"]
	if !ok {
		p.add(root.Line, "the lesson is missing \"steps\": a lesson needs at least one step")
		return l
	}
	ids := map[string]int{}
	for i, sn := range p.list(steps, "steps") {
		s := p.step(sn, i+1, l)
		if s.ID != "" {
			if prev, dup := ids[s.ID]; dup {
				p.add(sn.Line, "step id %q is already used by the step on line %d", s.ID, prev)
			}
			ids[s.ID] = sn.Line
		}
		l.Steps = append(l.Steps, s)
	}
	if steps.Kind == yaml.SequenceNode && len(steps.Content) == 0 {
		p.add(steps.Line, "steps is empty: a lesson needs at least one step")
	}
	p.groups(l)
	if len(l.Steps) > 0 {
		p.answers(m["answers"], root, l)
	}
	return l
}

// groups checks that the steps of an any-order group follow each other and
// share one talk session.
func (p *parser) groups(l *Lesson) {
	seen := map[string]int{}
	for i, s := range l.Steps {
		if s.Group == "" {
			continue
		}
		if s.Action != ActTalk {
			p.add(s.Line, "group is for talk steps; step %q is not one", s.Title)
			continue
		}
		if first, ok := seen[s.Group]; ok {
			prev := l.Steps[i-1]
			if prev.Group != s.Group {
				p.add(s.Line, "the steps of group %q must follow each other (the first is on line %d)", s.Group, l.Steps[first].Line)
			} else if prev.Talk.Key() != s.Talk.Key() {
				p.add(s.Line, "the steps of group %q must be in the same talk session", s.Group)
			}
			continue
		}
		seen[s.Group] = i
	}
}

// answers reads the answer scripts. A lesson without them is refused: they
// are what proves that its checks accept every right way and explain every
// usual mistake.
func (p *parser) answers(n *yaml.Node, root *yaml.Node, l *Lesson) {
	const how = "add answers.right (correct ways through, e.g. one with HELO and one with EHLO) and answers.wrong (mistakes with the step and the hint each must get); see 'mailx lessons format'"
	if n == nil {
		p.add(root.Line, "the lesson has no answer scripts: %s", how)
		return
	}
	m := p.fields(n, "answers", "right", "wrong")
	ids := map[string]bool{}
	for i, s := range l.Steps {
		ids[StepKey(i, s)] = true
	}
	names := map[string]bool{}
	acts := false // a lesson of read and check steps only has no wrong answers
	for _, s := range l.Steps {
		acts = acts || s.Action == ActTalk || s.Action == ActRun
	}
	for _, kind := range []string{"right", "wrong"} {
		list := p.list(m[kind], "answers."+kind)
		if len(list) == 0 && (kind == "right" || acts) {
			p.add(n.Line, "answers.%s is missing or empty: %s", kind, how)
		}
		for _, an := range list {
			keys := []string{"name", "script"}
			if kind == "wrong" {
				keys = append(keys, "step", "hint", "completes")
			}
			am := p.fields(an, "an answer script", keys...)
			a := Answer{Right: kind == "right", Line: an.Line, Name: p.required(am, "name", an, "an answer script")}
			if acts {
				a.Script = p.required(am, "script", an, "an answer script")
			} else {
				a.Script = p.str(am["script"], "script")
			}
			if names[a.Name] && a.Name != "" {
				p.add(an.Line, "answer script name %q is used twice", a.Name)
			}
			names[a.Name] = true
			if !a.Right {
				a.Step = p.required(am, "step", an, "a wrong answer script")
				a.Hint = p.required(am, "hint", an, "a wrong answer script")
				a.Completes = p.boolean(am["completes"], "completes")
				if a.Step != "" && !ids[a.Step] {
					p.add(am["step"].Line, "step %q is not a step id of this lesson", a.Step)
				}
			}
			l.Answers = append(l.Answers, a)
		}
	}
}

func (p *parser) lab(n *yaml.Node) LabSpec {
	var lab LabSpec
	m := p.fields(n, "lab", "domains", "dns", "max-size", "records", "lifetime", "files", "blocklist", "web")
	for _, bn := range p.list(m["blocklist"], "blocklist") {
		bm := p.fields(bn, "a blocklist entry", "address", "reason")
		text := p.required(bm, "address", bn, "a blocklist entry")
		addr, err := netip.ParseAddr(text)
		if text != "" && (err != nil || !addr.Is4()) {
			p.add(bn.Line, "blocklist address %q is not an IPv4 address such as 203.0.113.66", text)
			continue
		}
		reason := p.str(bm["reason"], "reason")
		if reason == "" {
			reason = "listed by the lesson"
		}
		lab.Blocklist = append(lab.Blocklist, BlockEntry{Addr: addr, Reason: reason})
	}
	for _, rn := range p.list(m["records"], "records") {
		rr := p.str(rn, "a record")
		if _, err := dns.NewRR(rr); err != nil || rr == "" {
			p.add(rn.Line, "record %q is not a DNS record in zone-file syntax such as \"school.test. 300 IN MX 10 mx1.school.test.\"", rr)
			continue
		}
		lab.Records = append(lab.Records, rr)
		lab.DNS = true
	}
	if v, ok := m["lifetime"]; ok {
		d, err := time.ParseDuration(p.str(v, "lifetime"))
		if err != nil || d < time.Second {
			p.add(v.Line, "lifetime must be a duration of at least 1s such as 30s, not %q", v.Value)
		}
		lab.Lifetime = d
	}
	for _, fn := range p.list(m["files"], "files") {
		name := p.str(fn, "a file")
		if !assetExists(name) {
			p.add(fn.Line, "file %q is not one of the lesson assets (%s)", name, strings.Join(assetNames(), ", "))
			continue
		}
		lab.Files = append(lab.Files, name)
	}
	if p.boolean(m["web"], "web") {
		lab.Web = true
	}
	if p.boolean(m["dns"], "dns") {
		lab.DNS = true // records or a second domain turn it on too
	}
	if v := p.integer(m["max-size"], "max-size"); v != nil {
		if *v < 1024 {
			p.add(m["max-size"].Line, "max-size must be at least 1024 bytes, not %d", *v)
		}
		lab.MaxSize = int64(*v)
	}
	seen := map[string]bool{}
	for _, dn := range p.list(m["domains"], "lab domains") {
		dm := p.fields(dn, "a lab domain", "name", "users", "scenario", "messages")
		d := LabDomain{Line: dn.Line}
		d.Name = strings.ToLower(p.required(dm, "name", dn, "a lab domain"))
		if d.Name != "" && !domainPattern.MatchString(d.Name) {
			p.add(dm["name"].Line, "domain %q is not a domain name such as hill.test", d.Name)
		}
		if seen[d.Name] {
			p.add(dn.Line, "domain %q is listed twice", d.Name)
		}
		seen[d.Name] = true
		d.Scenario = p.str(dm["scenario"], "scenario")
		if why := checkScenario(d.Scenario); why != "" {
			p.add(dm["scenario"].Line, "%s", why)
		}
		for _, un := range p.list(dm["users"], "users") {
			spec := p.str(un, "a user")
			name, pass, ok := strings.Cut(spec, ":")
			if !ok || name == "" || pass == "" || !namePattern.MatchString(name) {
				p.add(un.Line, "user %q must be written NAME:PASSWORD, e.g. jill:water", spec)
				continue
			}
			d.Users = append(d.Users, LabUser{Name: name, Password: pass})
		}
		for _, mn := range p.list(dm["messages"], "messages") {
			mm := p.fields(mn, "a message", "to", "from", "subject", "body")
			msg := LabMessage{To: p.required(mm, "to", mn, "a message"), From: p.str(mm["from"], "from"),
				Subject: p.str(mm["subject"], "subject"), Body: p.str(mm["body"], "body")}
			if msg.To != "" && !hasUser(d.Users, msg.To) {
				p.add(mm["to"].Line, "message for %q: that user is not listed in this domain's users", msg.To)
			}
			d.Messages = append(d.Messages, msg)
		}
		lab.Domains = append(lab.Domains, d)
	}
	if len(lab.Domains) > 1 {
		lab.DNS = true
	}
	return lab
}

func (p *parser) step(n *yaml.Node, num int, l *Lesson) Step {
	s := Step{Line: n.Line}
	what := fmt.Sprintf("step %d", num)
	m := p.fields(n, what, "id", "title", "text", "talk", "run", "check", "read", "web", "ask", "expect", "hint", "hints", "explain", "do", "group")
	if n.Kind != yaml.MappingNode {
		return s
	}
	s.ID = p.str(m["id"], "id")
	s.Title = p.required(m, "title", n, what)
	s.Text = p.str(m["text"], "text")
	s.Hint = p.str(m["hint"], "hint")
	s.Explain = p.str(m["explain"], "explain")
	s.Group = p.str(m["group"], "group")

	var actions []string
	for _, a := range []string{"talk", "run", "check", "read", "web", "ask"} {
		if _, ok := m[a]; ok {
			actions = append(actions, a)
		}
	}
	switch len(actions) {
	case 0:
		p.add(n.Line, "%s says nothing for the student to do: add one of talk, run, check, read, web or ask", what)
	case 1:
	default:
		p.add(m[actions[1]].Line, "%s has both %q and %q: a step has exactly one action; split it into two steps", what, actions[0], actions[1])
	}
	if len(actions) > 0 {
		switch actions[0] {
		case "talk":
			s.Action = ActTalk
			s.Talk = p.talk(m["talk"], l)
		case "run":
			s.Action = ActRun
			s.Run = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(p.str(m["run"], "run")), "mailx "))
			if s.Run == "" {
				p.add(m["run"].Line, "run must name the mailx command the student runs, e.g. \"mx lookup\"")
			}
		case "check":
			s.Action = ActCheck
		case "read":
			s.Action = ActRead
		case "web":
			s.Action = ActWeb
			s.Web = strings.ToLower(strings.TrimSpace(p.str(m["web"], "web")))
			if !l.hasDomain(s.Web) {
				p.add(m["web"].Line, "web names domain %q, which is not in the lab's domains", s.Web)
			}
			l.Lab.Web = true
		case "ask":
			s.Action = ActAsk
			if v := strings.ToLower(p.str(m["ask"], "ask")); v != "true" {
				p.add(m["ask"].Line, "ask must be true (the question itself goes in text), not %q", v)
			}
		}
	}
	for _, dn := range p.list(m["do"], "do") {
		act := p.str(dn, "a do action")
		if msg := checkDo(act, l); msg != "" {
			p.add(dn.Line, "%s", msg)
			continue
		}
		s.Do = append(s.Do, act)
	}
	if _, ok := m["do"]; ok && s.Action == ActTalk {
		p.add(m["do"].Line, "do is for read and check steps; a talk step is what the student does")
	}
	for _, ph := range placeholder.FindAllStringSubmatch(s.Text, -1) {
		if ph[2] != "" && !l.hasDomain(ph[2]) {
			p.add(m["text"].Line, "text refers to %s but the lab has no domain %q", ph[0], ph[2])
		}
		if ph[1] == "web" {
			l.Lab.Web = true
		}
	}
	for _, hn := range p.list(m["hints"], "hints") {
		hm := p.fields(hn, "a hint", "when", "hint")
		h := WhenHint{Hint: p.required(hm, "hint", hn, "a hint")}
		if wn, ok := hm["when"]; ok {
			h.When = p.when(wn, s)
		} else {
			p.add(hn.Line, "a hint in hints needs \"when\": the wrong try it is for (or use the step's plain \"hint\")")
		}
		s.Hints = append(s.Hints, h)
	}
	if e, ok := m["expect"]; ok {
		s.Expect = p.expect(e, s.Action, l, s.Talk.Protocol)
	} else if s.Action == ActTalk || s.Action == ActRun || s.Action == ActCheck || s.Action == ActWeb || s.Action == ActAsk {
		p.add(n.Line, "%s has no \"expect\": say what the runner checks", what)
	}
	return s
}

func (l *Lesson) hasDomain(name string) bool {
	for _, d := range l.Lab.Domains {
		if d.Name == name {
			return true
		}
	}
	return false
}

func (l *Lesson) domainHasUser(domain, user string) bool {
	for _, d := range l.Lab.Domains {
		if d.Name != domain {
			continue
		}
		for _, u := range d.Users {
			if u.Name == user {
				return true
			}
		}
	}
	return false
}

func hasUser(users []LabUser, name string) bool {
	for _, u := range users {
		if u.Name == name {
			return true
		}
	}
	return false
}

// checkDo validates a runner action and returns what is wrong with it, or "".
func checkDo(act string, l *Lesson) string {
	f := strings.Fields(act)
	switch {
	case len(f) == 1 && f[0] == "disconnect":
		return ""
	case len(f) == 2 && f[0] == "retry":
		if !l.hasDomain(f[1]) {
			return fmt.Sprintf("do %q: the lab has no domain %q", act, f[1])
		}
		return ""
	case len(f) >= 3 && f[0] == "scenario":
		if !l.hasDomain(f[1]) {
			return fmt.Sprintf("do %q: the lab has no domain %q", act, f[1])
		}
		if why := checkScenario(strings.Join(f[2:], " ")); why != "" {
			return fmt.Sprintf("do %q: %s", act, why)
		}
		return ""
	}
	return fmt.Sprintf("do %q is not an action: use \"scenario DOMAIN NAME\", \"retry DOMAIN\" or \"disconnect\"", act)
}

func (p *parser) talk(n *yaml.Node, l *Lesson) Talk {
	// "talk: smtp hill.test", "talk: imap hill.test #2" (a second session)
	fields := strings.Fields(p.str(n, "talk"))
	var t Talk
	if len(fields) == 3 && strings.HasPrefix(fields[2], "#") {
		t.Session, fields = fields[2], fields[:2]
	}
	if len(fields) != 2 {
		p.add(n.Line, "talk must be PROTOCOL DOMAIN [#NAME], e.g. \"smtp hill.test\" (protocols: smtp, submission, pop3, imap)")
		return t
	}
	t.Protocol, t.Domain = strings.ToLower(fields[0]), strings.ToLower(fields[1])
	if !talkProtocols[t.Protocol] {
		p.add(n.Line, "unknown protocol %q in talk; use smtp, submission, pop3 or imap", fields[0])
	}
	if !l.hasDomain(t.Domain) {
		p.add(n.Line, "talk names domain %q, which is not in the lab's domains", t.Domain)
	}
	return t
}

// failKeys are the names When.Failed may use.
var failKeys = map[string]bool{"verb": true, "arg": true, "reply": true, "state": true, "sender": true, "recipient": true,
	"extension": true, "tls": true, "shows": true, "flags": true, "exit": true, "mx": true, "file": true, "mailbox": true, "queue": true,
	"listed": true, "count": true, "run": true, "command": true, "response": true, "output": true, "bridge": true, "answer": true}

func (p *parser) when(n *yaml.Node, s Step) When {
	var w When
	m := p.fields(n, "when", "verb", "reply", "state", "failed", "exit", "answer")
	w.Verb = p.verbs(m["verb"], "when.verb", s.Talk.Protocol)
	if v, ok := m["reply"]; ok {
		r := p.str(v, "when.reply")
		if !ValidReplyPattern(r) {
			p.add(v.Line, "when.reply %q is not a reply code (250), a class (5xx) or a status (+OK, -ERR, OK, NO, BAD)", r)
		} else {
			w.Reply = &ReplyMatch{Pattern: r}
		}
	}
	if v, ok := m["state"]; ok {
		w.State = p.state(v, "when.state", s.Talk.Protocol)
	}
	if v, ok := m["failed"]; ok {
		w.Failed = p.str(v, "when.failed")
		if !failKeys[w.Failed] {
			p.add(v.Line, "when.failed %q is not an expectation name (verb, arg, reply, state, sender, recipient, extension, tls, shows, flags, exit, mx, mailbox, queue, count, bridge, answer)", w.Failed)
		}
	}
	w.Exit = p.integer(m["exit"], "when.exit")
	w.Answer = p.strs(m["answer"], "when.answer")
	if _, ok := m["answer"]; ok && s.Action != ActAsk {
		p.add(m["answer"].Line, "when.answer is for ask steps")
	}
	return w
}

// strings reads a value that may be one text or a list of texts.
func (p *parser) strs(n *yaml.Node, what string) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, v := range p.list(n, what) {
		out = append(out, p.str(v, what))
	}
	return out
}

// verbs reads command names and checks them against proto's command table
// of the step's protocol.
func (p *parser) verbs(n *yaml.Node, what, proto string) []string {
	vs := p.strs(n, what)
	for i, v := range vs {
		vs[i] = strings.ToUpper(strings.TrimSpace(v))
		if proto == "" || knownVerb(proto, vs[i]) {
			continue
		}
		p.add(n.Line, "%s: %q is not a %s command mailx knows", what, v, proto)
	}
	return vs
}

func knownVerb(proto, verb string) bool {
	switch proto {
	case "smtp", "submission":
		_, ok := smtp.Lookup(verb)
		return ok || verb == "."
	case "pop3":
		_, ok := pop3.Lookup(verb)
		return ok
	case "imap":
		first, _, _ := strings.Cut(verb, " ")
		_, ok := imap.Lookup(first)
		return ok
	}
	return false
}

func (p *parser) state(n *yaml.Node, what, proto string) string {
	st := strings.ToLower(p.str(n, what))
	if proto != "" && !knownState(proto, st) {
		p.add(n.Line, "%s %q is not a %s session state (%s)", what, st, proto, strings.Join(stateNames(proto), ", "))
	}
	return st
}

func stateNames(proto string) []string {
	if proto == "submission" {
		proto = "smtp"
	}
	var out []string
	for k := range stateWords[proto] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (p *parser) expect(n *yaml.Node, act Action, l *Lesson, proto string) Expect {
	var e Expect
	m := p.fields(n, "expect", "verb", "arg", "state", "sender", "recipient", "extension", "tls", "shows", "flags", "mx", "file",
		"command", "reply", "response", "exit", "output", "mailbox", "queue", "listed", "within", "bridge", "answer")
	if v, ok := m["listed"]; ok {
		a, err := netip.ParseAddr(p.str(v, "expect.listed"))
		if err != nil || !a.Is4() {
			p.add(v.Line, "expect.listed must be an IPv4 address such as 192.0.2.10, not %q", v.Value)
		}
		e.Listed = a
	}
	e.Verb = p.verbs(m["verb"], "expect.verb", proto)
	e.Arg = p.str(m["arg"], "expect.arg")
	if v, ok := m["state"]; ok {
		e.State = p.state(v, "expect.state", proto)
	}
	e.Sender = strings.ToLower(p.str(m["sender"], "expect.sender"))
	e.Recipient = strings.ToLower(p.str(m["recipient"], "expect.recipient"))
	e.Extensions = p.strs(m["extension"], "expect.extension")
	if v, ok := m["tls"]; ok {
		b := strings.EqualFold(p.str(v, "tls"), "true")
		e.TLS = &b
	}
	e.Shows = p.strs(m["shows"], "expect.shows")
	if fn, ok := m["flags"]; ok {
		if fn.Kind != yaml.MappingNode {
			p.add(fn.Line, "expect.flags must be a mapping of options to values, e.g. --server: \"{dns}\"")
		} else {
			for i := 0; i+1 < len(fn.Content); i += 2 {
				name := fn.Content[i].Value
				if !strings.HasPrefix(name, "-") {
					p.add(fn.Content[i].Line, "expect.flags: %q is not an option such as --server", name)
				}
				e.Flags = append(e.Flags, FlagCheck{Name: name, Value: p.str(fn.Content[i+1], name)})
			}
		}
	}
	if fn, ok := m["file"]; ok {
		fm := p.fields(fn, "expect.file", "name", "shows")
		f := &FileCheck{Name: p.required(fm, "name", fn, "expect.file"), Shows: p.strs(fm["shows"], "expect.file.shows")}
		if strings.ContainsAny(f.Name, `/\\`) || strings.Contains(f.Name, "..") {
			p.add(fn.Line, "expect.file.name %q must be a file name in the lesson folder, without a directory", f.Name)
		}
		e.File = f
	}
	for _, s := range p.strs(m["mx"], "expect.mx") {
		f, err := ParseMXFact(s)
		if err != nil {
			p.add(m["mx"].Line, "expect.mx: %v", err)
			continue
		}
		e.MX = append(e.MX, f)
	}
	e.Command = p.regex(m["command"], "expect.command")
	e.Response = p.regex(m["response"], "expect.response")
	e.Output = p.regex(m["output"], "expect.output")
	if v, ok := m["reply"]; ok {
		r := p.str(v, "expect.reply")
		if !ValidReplyPattern(r) {
			p.add(v.Line, "expect.reply %q is not a reply code (250), a class (5xx) or a status (+OK, -ERR, OK, NO, BAD)", r)
		} else {
			e.Reply = &ReplyMatch{Pattern: r}
		}
	}
	e.Exit = p.integer(m["exit"], "expect.exit")
	if v, ok := m["within"]; ok {
		d, err := time.ParseDuration(p.str(v, "within"))
		if err != nil || d <= 0 || d > 10*time.Minute {
			p.add(v.Line, "within must be a duration such as 10s or 2m (at most 10m), not %q", v.Value)
		}
		e.Within = d
	}
	if v, ok := m["mailbox"]; ok {
		e.Mailbox = p.mailbox(v, l)
	}
	if v, ok := m["queue"]; ok {
		qm := p.fields(v, "expect.queue", "domain", "recipient", "state")
		q := &QueueCheck{Domain: p.required(qm, "domain", v, "expect.queue"), Recipient: p.str(qm["recipient"], "recipient"), State: p.required(qm, "state", v, "expect.queue")}
		switch q.State {
		case "", "pending", "deferred", "bounced", "delivered", "held":
		default:
			p.add(qm["state"].Line, "queue state %q is not one of pending, deferred, held, delivered, bounced", q.State)
		}
		if q.Domain != "" && !l.hasDomain(q.Domain) {
			p.add(qm["domain"].Line, "expect.queue names domain %q, which is not in the lab's domains", q.Domain)
		}
		e.Queue = q
	}
	if v, ok := m["bridge"]; ok {
		bm := p.fields(v, "expect.bridge", "domain", "user", "request", "sent")
		b := &BridgeCheck{Domain: strings.ToLower(p.required(bm, "domain", v, "expect.bridge")), User: strings.ToLower(p.str(bm["user"], "expect.bridge.user")),
			Request: p.strs(bm["request"], "expect.bridge.request"), Sent: p.strs(bm["sent"], "expect.bridge.sent")}
		if b.Domain != "" && !l.hasDomain(b.Domain) {
			p.add(bm["domain"].Line, "expect.bridge names domain %q, which is not in the lab's domains", b.Domain)
		}
		if b.User != "" {
			name, _, _ := strings.Cut(b.User, "@")
			if b.Domain != "" && !l.domainHasUser(b.Domain, name) {
				p.add(bm["user"].Line, "expect.bridge.user %q is not a user of %s", b.User, b.Domain)
			}
		}
		for _, r := range b.Request {
			method, path, _ := strings.Cut(strings.TrimSpace(r), " ")
			if method != strings.ToUpper(method) || !strings.HasPrefix(strings.TrimSpace(path), "/") {
				p.add(bm["request"].Line, "expect.bridge.request %q must be METHOD /PATH, such as \"GET /f/INBOX\" or \"POST /send\"", r)
			}
		}
		if len(b.Request) == 0 && len(b.Sent) == 0 {
			p.add(v.Line, "expect.bridge needs request or sent (or both)")
		}
		l.Lab.Web = true
		e.Bridge = b
	}
	e.Answer = p.strs(m["answer"], "expect.answer")
	if v, ok := m["answer"]; ok && act != ActAsk {
		p.add(v.Line, "expect.answer is for ask steps")
	}
	given := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := m[k]; ok {
				return true
			}
		}
		return false
	}
	switch act {
	case ActTalk:
		if !given("verb", "state", "sender", "recipient", "extension", "tls", "shows", "command", "reply", "response", "mailbox", "queue", "listed", "bridge") {
			p.add(n.Line, "a talk step's expect needs verb, state, reply or another talk condition (see 'mailx lessons format')")
		}
		for _, k := range []string{"exit", "output", "flags", "mx", "file"} {
			if v, ok := m[k]; ok {
				p.add(v.Line, "expect.%s is for run steps, not talk steps", k)
			}
		}
	case ActRun:
		if !given("exit", "output", "shows", "flags", "mx", "file", "mailbox", "queue", "listed", "bridge") {
			p.add(n.Line, "a run step's expect needs exit, shows, flags, mx, mailbox or queue")
		}
		for _, k := range []string{"command", "reply", "response", "verb", "arg", "state", "sender", "recipient", "extension", "tls"} {
			if v, ok := m[k]; ok {
				p.add(v.Line, "expect.%s is for talk steps, not run steps", k)
			}
		}
	case ActCheck, ActWeb:
		if !given("mailbox", "queue", "listed", "bridge") {
			p.add(n.Line, "a %s step's expect needs bridge, mailbox, queue or listed", act)
		}
		for k, v := range m {
			if k != "mailbox" && k != "queue" && k != "listed" && k != "within" && k != "bridge" {
				p.add(v.Line, "expect.%s is not for %s steps: they look at the bridge, mailboxes, queues and the blocklist", k, act)
			}
		}
	case ActAsk:
		if !given("answer") {
			p.add(n.Line, "an ask step's expect needs answer: the words of a right answer")
		}
		for k, v := range m {
			if k != "answer" && k != "mailbox" && k != "queue" && k != "listed" && k != "within" && k != "bridge" {
				p.add(v.Line, "expect.%s is not for ask steps", k)
			}
		}
	}
	return e
}

// fieldName is a header field name (RFC 5322 §3.6.8: printable ASCII but
// the colon).
var fieldName = regexp.MustCompile(`^[!-9;-~]+$`)

func (p *parser) mailbox(n *yaml.Node, l *Lesson) *MailboxCheck {
	m := p.fields(n, "expect.mailbox", "address", "folder", "headers", "fields", "body", "count", "at_least", "bounce", "sender", "shows", "omits")
	mc := &MailboxCheck{Address: strings.ToLower(p.required(m, "address", n, "expect.mailbox"))}
	if user, domain, ok := strings.Cut(mc.Address, "@"); mc.Address != "" && (!ok || !l.domainHasUser(domain, user)) {
		p.add(m["address"].Line, "mailbox %q is not a user of the lab (users are listed under lab.domains)", mc.Address)
	}
	mc.Folder = p.str(m["folder"], "folder")
	mc.Sender = strings.ToLower(p.str(m["sender"], "expect.mailbox.sender"))
	mc.Shows = p.strs(m["shows"], "expect.mailbox.shows")
	mc.Omits = p.strs(m["omits"], "expect.mailbox.omits")
	mc.Body = p.regex(m["body"], "expect.mailbox.body")
	mc.Count = p.integer(m["count"], "expect.mailbox.count")
	mc.AtLeast = p.integer(m["at_least"], "expect.mailbox.at_least")
	if mc.Count != nil && mc.AtLeast != nil {
		p.add(m["at_least"].Line, "expect.mailbox has both count (exactly) and at_least: keep one")
	}
	if mc.AtLeast != nil && *mc.AtLeast < 1 {
		p.add(m["at_least"].Line, "expect.mailbox.at_least must be 1 or more (use count: 0 for an empty folder)")
	}
	mc.Bounce = p.boolean(m["bounce"], "expect.mailbox.bounce")
	if fn, ok := m["fields"]; ok {
		mc.Fields = map[string][]string{}
		if fn.Kind != yaml.MappingNode {
			p.add(fn.Line, "expect.mailbox.fields must be a mapping of header field names to words, e.g. Authentication-Results: spf=pass")
		} else {
			for i := 0; i+1 < len(fn.Content); i += 2 {
				name := fn.Content[i].Value
				if !fieldName.MatchString(name) {
					p.add(fn.Content[i].Line, "%q is not a header field name such as X-Spam-Status", name)
					continue
				}
				words := p.strs(fn.Content[i+1], "field "+name)
				if len(words) == 0 {
					p.add(fn.Content[i+1].Line, "field %s needs the words it must contain", name)
				}
				mc.Fields[name] = words
			}
		}
	}
	if hn, ok := m["headers"]; ok {
		mc.Headers = map[string]*regexp.Regexp{}
		if hn.Kind != yaml.MappingNode {
			p.add(hn.Line, "expect.mailbox.headers must be a mapping of header names to patterns, e.g. Subject: pail")
		} else {
			for i := 0; i+1 < len(hn.Content); i += 2 {
				name := hn.Content[i].Value
				if re := p.regex(hn.Content[i+1], "header "+name); re != nil {
					mc.Headers[name] = re
				}
			}
		}
	}
	return mc
}
