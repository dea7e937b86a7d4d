package lessons

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/server/maildir"
)

// fakeBlocklistLab is a stopped lab on disk with a blocklist.
type fakeBlocklistLab struct {
	dir    string
	listed []BlockEntry
}

func (f fakeBlocklistLab) DataDir(domain string) string       { return filepath.Join(f.dir, domain) }
func (f fakeBlocklistLab) Queue(string) ([]QueueEntry, error) { return nil, nil }
func (f fakeBlocklistLab) Blocklist() ([]BlockEntry, error)   { return f.listed, nil }
func deliverTo(t *testing.T, dataDir, user, folder, text string) string {
	t.Helper()
	root := maildir.Root(dataDir, user)
	if folder != "" {
		root = filepath.Join(root, "."+folder)
	}
	if err := maildir.Create(root); err != nil {
		t.Fatal(err)
	}
	name, err := maildir.Deliver(root, strings.NewReader(text), maildir.DeliverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func TestMailboxFieldsCheck(t *testing.T) {
	dir := t.TempDir()
	lab := fakeBlocklistLab{dir: dir}
	data := lab.DataDir("hamburger.test")
	deliverTo(t, data, "bob", "Junk", "Authentication-Results: mx.hamburger.test;\r\n\tspf=fail (203.0.113.66 is not permitted) smtp.mailfrom=alice@crepes.test;\r\n\tdkim=none;\r\n\tdmarc=fail (p=quarantine dis=QUARANTINE) header.from=crepes.test\r\n"+
		"X-Spam-Status: Yes, score=6.5 required=5.0 tests=DMARC_FAIL,SPF_FAIL\r\nFrom: alice@crepes.test\r\nSubject: hi\r\n\r\nhello\r\n")
	for _, tc := range []struct {
		name   string
		fields map[string][]string
		folder string
		why    string // "" for a pass
	}{
		{"folded field, any case", map[string][]string{"authentication-results": {"SPF=FAIL", "dmarc=fail"}}, "Junk", ""},
		{"two fields", map[string][]string{"Authentication-Results": {"dkim=none"}, "X-Spam-Status": {"Yes", "SPF_FAIL"}}, "Junk", ""},
		{"word missing", map[string][]string{"Authentication-Results": {"dkim=pass"}}, "Junk", `its Authentication-Results field does not show "dkim=pass"`},
		{"field missing", map[string][]string{"X-Spam-Report": {"SPF_FAIL"}}, "Junk", "it has no X-Spam-Report field"},
		{"other folder", map[string][]string{"X-Spam-Status": {"Yes"}}, "", "is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Expect{Mailbox: &MailboxCheck{Address: "bob@hamburger.test", Folder: tc.folder, Fields: tc.fields}}
			v := e.checkLabOnce(lab)
			if tc.why == "" && !v.OK || tc.why != "" && (v.OK || !strings.Contains(v.Why, tc.why)) {
				t.Errorf("check = %+v, want %q", v, tc.why)
			}
		})
	}
}

func TestListedCheck(t *testing.T) {
	relay := netip.MustParseAddr("192.0.2.10")
	e := Expect{Listed: relay}
	if !e.HasLabCheck() {
		t.Fatal("a listed condition is a lab check")
	}
	if v := e.checkLabOnce(fakeBlocklistLab{}); v.OK || v.Failed != "listed" || !strings.Contains(v.Why, "192.0.2.10 is not listed in bl.lab.test") {
		t.Errorf("empty list: %+v", v)
	}
	if v := e.checkLabOnce(fakeBlocklistLab{listed: []BlockEntry{{Addr: netip.MustParseAddr("203.0.113.66")}, {Addr: relay}}}); !v.OK {
		t.Errorf("listed: %+v", v)
	}
	// A lab without a blocklist says so instead of passing.
	if v := e.checkLabOnce(storedLabNoBlocklist{}); v.OK || !strings.Contains(v.Why, "no blocklist") {
		t.Errorf("no blocklist: %+v", v)
	}
}

type storedLabNoBlocklist struct{}

func (storedLabNoBlocklist) DataDir(string) string              { return "" }
func (storedLabNoBlocklist) Queue(string) ([]QueueEntry, error) { return nil, nil }

func TestStoredLabReadsTheSavedBlocklist(t *testing.T) {
	ws := Workspace{Dir: t.TempDir()}
	lab := StoredLab(ws).(BlocklistView)
	if got, err := lab.Blocklist(); err != nil || len(got) != 0 {
		t.Fatalf("no file: %v, %v", got, err)
	}
	os.MkdirAll(filepath.Join(ws.Dir, "lab"), 0o700)
	file := filepath.Join(ws.Dir, "lab", "blocklist.json")
	os.WriteFile(file, []byte(`{"entries":[{"addr":"127.0.0.2","reason":"test","test":true},{"addr":"192.0.2.10","reason":"open relay"}]}`), 0o600)
	got, err := lab.Blocklist()
	if err != nil || len(got) != 1 || got[0].Addr != netip.MustParseAddr("192.0.2.10") || got[0].Reason != "open relay" {
		t.Fatalf("Blocklist = %+v, %v", got, err)
	}
	os.WriteFile(file, []byte(`{"entries":[`), 0o600)
	if _, err := lab.Blocklist(); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged file: %v", err)
	}
}

func TestNewestMessagePlaceholder(t *testing.T) {
	data := t.TempDir()
	if f := newestMessage(data, "bob", ""); f != "" {
		t.Fatalf("empty mailbox: %q", f)
	}
	deliverTo(t, data, "bob", "", "Subject: one\r\n\r\n1\r\n")
	deliverTo(t, data, "bob", "", "Subject: two\r\n\r\n2\r\n")
	f := newestMessage(data, "bob", "")
	b, err := os.ReadFile(f)
	if err != nil || !strings.Contains(string(b), "Subject: two") {
		t.Fatalf("newest = %q (%q, %v), want the second message", f, b, err)
	}
	if f := newestMessage(data, "bob", "Junk"); f != "" {
		t.Fatalf("empty Junk: %q", f)
	}
}

func TestParseSpamLabKeys(t *testing.T) {
	const base = `name: demo
title: Demo
lab:
  blocklist:
    - address: 203.0.113.66
      reason: spam trap hits
  domains:
    - name: hill.test
      users: ["jill:water"]
    - name: town.test
      users: ["jack:pail"]
steps:
  - title: Switch
    read: true
    do:
      - scenario hill.test forward jack@town.test
      - scenario town.test list-footer
  - title: Listed
    check: true
    expect:
      listed: 192.0.2.10
      within: 60s
  - title: Judged
    check: true
    expect:
      mailbox:
        address: jill@hill.test
        folder: Junk
        fields:
          Authentication-Results: [spf=fail, dmarc=fail]
          X-Spam-Status: "Yes"
answers:
  right:
    - name: wait
      script: ""
  wrong:
    - name: none
      step: step-2
      hint: listed
      script: ""
`
	l, err := Parse("spam.yaml", []byte(base))
	if err != nil {
		t.Fatalf("valid lesson rejected: %v", err)
	}
	if len(l.Lab.Blocklist) != 1 || l.Lab.Blocklist[0].Addr != netip.MustParseAddr("203.0.113.66") || l.Lab.Blocklist[0].Reason != "spam trap hits" {
		t.Errorf("blocklist = %+v", l.Lab.Blocklist)
	}
	if got := l.Steps[1].Expect.Listed; got != netip.MustParseAddr("192.0.2.10") {
		t.Errorf("listed = %v", got)
	}
	if got := l.Steps[2].Expect.Mailbox.Fields; len(got) != 2 || got["X-Spam-Status"][0] != "Yes" || len(got["Authentication-Results"]) != 2 {
		t.Errorf("fields = %v", got)
	}
	// A blank scenario is no scenario (and no panic).
	if _, err := Parse("spam.yaml", []byte(strings.Replace(base, `users: ["jill:water"]`, `users: ["jill:water"]`+"\n      scenario: \" \"", 1))); err != nil {
		t.Errorf("blank scenario: %v", err)
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"bad blocklist address", "address: 203.0.113.66", "address: spammer", `5: blocklist address "spammer" is not an IPv4 address`},
		{"unknown scenario", "scenario town.test list-footer", "scenario town.test footer", `17: do "scenario town.test footer": unknown scenario "footer"`},
		{"forward without address", "forward jack@town.test", "forward", `16: do "scenario hill.test forward"`},
		{"bad listed", "listed: 192.0.2.10", "listed: crepes.test", `21: expect.listed must be an IPv4 address`},
		{"fields not a mapping", "        fields:\n          Authentication-Results: [spf=fail, dmarc=fail]\n          X-Spam-Status: \"Yes\"\n", "        fields: spf=fail\n", `29: expect.mailbox.fields must be a mapping`},
		{"bad field name", "X-Spam-Status: \"Yes\"", "\"X Spam\": \"Yes\"", `31: "X Spam" is not a header field name`},
		{"exit on a check step", "    expect:\n      listed: 192.0.2.10\n      within: 60s\n", "    expect:\n      listed: 192.0.2.10\n      exit: 0\n", `22: expect.exit is not for check steps`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(base, tc.from) {
				t.Fatalf("test case does not apply: %q", tc.from)
			}
			_, err := Parse("spam.yaml", []byte(strings.Replace(base, tc.from, tc.to, 1)))
			var ps Problems
			if !errors.As(err, &ps) || !strings.Contains(err.Error(), "spam.yaml:"+tc.want) {
				t.Errorf("Parse error = %v, want %q", err, tc.want)
			}
		})
	}
}

// A step a student may overdo (COPY 1:* Junk twice) is checked with
// at_least; count stays exact.
func TestMailboxCountAndAtLeast(t *testing.T) {
	dir := t.TempDir()
	lab := fakeBlocklistLab{dir: dir}
	data := lab.DataDir("hamburger.test")
	for i := 0; i < 7; i++ {
		deliverTo(t, data, "bob", "Junk", "Subject: prize\r\n\r\nclaim it\r\n")
	}
	six, seven, eight := 6, 7, 8
	for _, tc := range []struct {
		name string
		mc   MailboxCheck
		why  string // "" for a pass
	}{
		{"at least fewer", MailboxCheck{AtLeast: &six}, ""},
		{"at least all", MailboxCheck{AtLeast: &seven}, ""},
		{"at least more", MailboxCheck{AtLeast: &eight}, "holds 7 message(s); this step expects at least 8"},
		{"exactly other", MailboxCheck{Count: &six}, "holds 7 message(s); this step expects 6"},
		{"exactly same", MailboxCheck{Count: &seven}, ""},
		{"at least and words", MailboxCheck{AtLeast: &six, Shows: []string{"lottery"}}, "no message in the mailbox"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mc := tc.mc
			mc.Address, mc.Folder = "bob@hamburger.test", "Junk"
			v := Expect{Mailbox: &mc}.checkLabOnce(lab)
			if tc.why == "" && !v.OK || tc.why != "" && (v.OK || !strings.Contains(v.Why, tc.why)) {
				t.Errorf("check = %+v, want %q", v, tc.why)
			}
		})
	}
}
