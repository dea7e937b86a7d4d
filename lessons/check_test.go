package lessons

import (
	"strings"
	"testing"
)

func TestMatchExchangeSaysWhatDidNotHold(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name   string
		e      Expect
		x      Exchange
		failed string
		why    string // a fragment of the verdict, "" when it must pass
	}{
		{"helo or ehlo", Expect{State: "greeted"}, Exchange{Session: "smtp hill.test ", Verb: "EHLO", State: "greeted", Status: "250"}, "", ""},
		{"not greeted", Expect{State: "greeted"}, Exchange{Session: "smtp hill.test ", Verb: "MAIL", State: "connected", Status: "503"}, "state", "the session is now connected but not yet greeted"},
		{"sender case", Expect{Sender: "jack@town.test"}, Exchange{Session: "smtp x ", Sender: "jack@town.test"}, "", ""},
		{"other sender", Expect{Sender: "jack@town.test"}, Exchange{Session: "smtp x ", Sender: "jill@hill.test"}, "sender", "the envelope sender is <jill@hill.test>"},
		{"no transaction", Expect{Sender: "jack@town.test"}, Exchange{Session: "smtp x "}, "sender", "no mail transaction is open"},
		{"recipient", Expect{Recipient: "bob@hill.test"}, Exchange{Session: "smtp x ", Recipients: []string{"jill@hill.test"}}, "recipient", "the accepted recipients are <jill@hill.test>"},
		{"verb list", Expect{Verb: []string{"LIST", "STAT"}}, Exchange{Session: "pop3 x ", Verb: "STAT"}, "", ""},
		{"verb words", Expect{Verb: []string{"RETR"}}, Exchange{Session: "pop3 x ", Verb: "DELE"}, "verb", "you sent DELE; this step asks for RETR"},
		{"arg loose", Expect{Arg: "INBOX"}, Exchange{Session: "imap x ", Verb: "SELECT", Arg: `"inbox"`}, "", ""},
		{"imap names keep case", Expect{Arg: "Recipes"}, Exchange{Session: "imap x ", Verb: "CREATE", Arg: "recipes"}, "arg", "you sent CREATE recipes"},
		{"pop3 arg", Expect{Arg: "1"}, Exchange{Session: "pop3 x ", Verb: "RETR", Arg: " 1 "}, "", ""},
		{"reply class", Expect{Reply: &ReplyMatch{"5xx"}}, Exchange{Session: "smtp x ", Verb: "RCPT", Status: "250"}, "reply", "the server answered 250 to RCPT; this step needs a 5xx permanent refusal"},
		{"extension", Expect{Extensions: []string{"STARTTLS"}}, Exchange{Session: "smtp x ", Extensions: []string{"AUTH", "SIZE"}}, "extension", "(AUTH, SIZE) do not include STARTTLS"},
		{"helo lists none", Expect{Extensions: []string{"SIZE"}}, Exchange{Session: "smtp x ", Verb: "HELO"}, "extension", "only an accepted EHLO lists them"},
		{"tls", Expect{TLS: &yes}, Exchange{Session: "smtp x "}, "tls", "not encrypted"},
		{"shows", Expect{Shows: []string{`\Seen`}}, Exchange{Session: "imap x ", Response: []string{`* 1 FETCH (FLAGS (\Seen))`}}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.e.MatchExchange(tc.x)
			if tc.why == "" {
				if !v.OK {
					t.Fatalf("MatchExchange = %+v, want a pass", v)
				}
				return
			}
			if v.OK || v.Failed != tc.failed || !strings.Contains(v.Why, tc.why) {
				t.Errorf("MatchExchange = %+v, want failed %q with %q", v, tc.failed, tc.why)
			}
		})
	}
}

func TestMatchRunChecksFlagsAndFacts(t *testing.T) {
	vars := map[string]string{"dns": "127.0.0.1:5353", "data:crepes.test": "'/home/a b/lab'"}
	e := Expect{Flags: []FlagCheck{{"--server", "{dns}"}}, MX: []MXFact{{10, "mx.hamburger.test"}}}
	for _, tc := range []struct {
		args []string
		out  string
		why  string
	}{
		{[]string{"mx", "lookup", "hamburger.test", "--server", "127.0.0.1:5353", "--short"}, "10 mx.hamburger.test.\n", ""},
		{[]string{"mx", "lookup", "--server=127.0.0.1:5353", "hamburger.test"}, "hamburger.test.  300 IN MX 10 mx.hamburger.test.\n", ""},
		{[]string{"mx", "lookup", "hamburger.test"}, "", "your command has no --server option"},
		{[]string{"mx", "lookup", "hamburger.test", "--server", "8.8.8.8"}, "", "your command has --server 8.8.8.8; the lab's is --server 127.0.0.1:5353"},
		{[]string{"mx", "lookup", "school.test", "--server", "127.0.0.1:5353"}, "10 mx1.school.test.\n", "the output shows mx1.school.test (preference 10); this step looks for mx.hamburger.test (preference 10)"},
	} {
		v := e.MatchRun(RunResult{Args: tc.args, Output: tc.out}, vars)
		if tc.why == "" && !v.OK || tc.why != "" && (v.OK || !strings.Contains(v.Why, tc.why)) {
			t.Errorf("MatchRun(%q) = %+v, want %q", tc.args, v, tc.why)
		}
	}
	// A quoted data folder on the command line is the folder itself.
	d := Expect{Flags: []FlagCheck{{"--data", "{data:crepes.test}"}}}
	if v := d.MatchRun(RunResult{Args: []string{"queue", "list", "--data", "/home/a b/lab"}}, vars); !v.OK {
		t.Errorf("--data with a quoted folder: %+v", v)
	}
}

func TestHintForChoosesByWhatHappened(t *testing.T) {
	s := Step{Hint: "general", Hints: []WhenHint{
		{When: When{Verb: []string{"PASS"}, Reply: &ReplyMatch{"-ERR"}}, Hint: "send USER again"},
		{When: When{Failed: "flags"}, Hint: "add --server"},
	}}
	pass := &Exchange{Session: "pop3 x ", Verb: "PASS", Status: "-ERR", State: "authorization"}
	if h := HintFor(s, pass, nil, Verdict{Failed: "state"}); h != "send USER again" {
		t.Errorf("refused PASS: hint %q", h)
	}
	if h := HintFor(s, nil, &RunResult{}, Verdict{Failed: "flags"}); h != "add --server" {
		t.Errorf("missing flag: hint %q", h)
	}
	rcpt := &Exchange{Session: "smtp x ", Verb: "RCPT", Status: "503", State: "greeted"}
	if h := HintFor(s, rcpt, nil, Verdict{Failed: "state"}); !strings.Contains(h, "you need MAIL FROM") {
		t.Errorf("503 in greeted: hint %q", h)
	}
	if h := HintFor(s, &Exchange{Session: "smtp x ", Verb: "NOOP", Status: "250"}, nil, Verdict{Failed: "verb"}); h != "general" {
		t.Errorf("other try: hint %q", h)
	}
}
