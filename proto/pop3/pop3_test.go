package pop3

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/proto/note"
)

func TestAPOPDigestRFCExample(t *testing.T) {
	greeting := "POP3 server ready <1896.697170952@dbc.mtview.ca.us>"
	ts, ok := Timestamp(greeting)
	if !ok || ts != "<1896.697170952@dbc.mtview.ca.us>" {
		t.Fatalf("Timestamp(%q) = %q, %v", greeting, ts, ok)
	}
	if got, want := APOPDigest(ts, "tanstaaf"), "c4c9334bac560ecc979e58001b3e22fb"; got != want {
		t.Errorf("APOPDigest = %s, want %s (RFC 1939 §7 example)", got, want)
	}
}

func TestTimestamp(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Dovecot ready.", ""},
		{"ready <no-at-sign> <1.2@host>", "<1.2@host>"},
		{"<a@b", ""},
		{"x <a b@c> <d@e>", "<d@e>"},
	} {
		got, ok := Timestamp(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Timestamp(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}

func TestNext(t *testing.T) {
	for _, tc := range []struct {
		s    State
		verb string
		ok   bool
		want State
	}{
		{Authorization, "USER", true, Authorization},
		{Authorization, "pass", true, Transaction},
		{Authorization, "PASS", false, Authorization},
		{Authorization, "APOP", true, Transaction},
		{Authorization, "AUTH", true, Transaction},
		{Authorization, "QUIT", true, Closed},
		{Authorization, "STLS", true, Authorization},
		{Transaction, "DELE", true, Transaction},
		{Transaction, "QUIT", true, Update},
		{Transaction, "QUIT", false, Update},
		{Update, "QUIT", true, Closed},
	} {
		if got := Next(tc.s, tc.verb, tc.ok); got != tc.want {
			t.Errorf("Next(%v, %s, %v) = %v, want %v", tc.s, tc.verb, tc.ok, got, tc.want)
		}
	}
}

func TestAllowedAndMulti(t *testing.T) {
	if Allowed("RETR", Authorization) || !Allowed("retr", Transaction) || Allowed("BOGUS", Transaction) {
		t.Error("Allowed disagrees with RFC 1939 for RETR/BOGUS")
	}
	if !Allowed("CAPA", Authorization) || !Allowed("CAPA", Transaction) || !Allowed("QUIT", Authorization) {
		t.Error("CAPA and QUIT must be allowed in both states")
	}
	for _, tc := range []struct {
		verb, arg string
		want      bool
	}{
		{"LIST", "", true}, {"LIST", "1", false}, {"UIDL", "", true}, {"UIDL", "2", false},
		{"RETR", "1", true}, {"TOP", "1 0", true}, {"CAPA", "", true}, {"AUTH", "", true},
		{"AUTH", "PLAIN", false}, {"STAT", "", false}, {"DELE", "1", false}, {"XYZ", "", false},
	} {
		if got := IsMultiLine(tc.verb, tc.arg); got != tc.want {
			t.Errorf("IsMultiLine(%s, %q) = %v, want %v", tc.verb, tc.arg, got, tc.want)
		}
	}
}

func TestCheckArgs(t *testing.T) {
	for _, tc := range []struct {
		line string
		ok   bool
	}{
		{"RETR 1", true}, {"RETR", false}, {"RETR 1 2", false}, {"PASS two words", true},
		{"STAT now", false}, {"TOP 1 5", true}, {"TOP 1", false}, {"LIST", true}, {"HELO x", false},
	} {
		v, rest := Verb(tc.line)
		r, ok := CheckArgs(v, rest)
		if ok != tc.ok {
			t.Errorf("CheckArgs(%q) = %v (%s), want ok=%v", tc.line, ok, r.StatusLine(), tc.ok)
		}
		if !ok && r.Status != StatusErr {
			t.Errorf("CheckArgs(%q) reply %q is not -ERR", tc.line, r.StatusLine())
		}
	}
}

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Response
		err  bool
	}{
		{"+OK", Response{Status: StatusOK}, false},
		{"+OK 2 320", Response{Status: StatusOK, Text: "2 320"}, false},
		{"-ERR [IN-USE] locked", Response{Status: StatusErr, Code: "IN-USE", Text: "locked"}, false},
		{"-ERR [SYS/TEMP] try later", Response{Status: StatusErr, Code: "SYS/TEMP", Text: "try later"}, false},
		{"-ERR [not a code] x", Response{Status: StatusErr, Text: "[not a code] x"}, false},
		{"-ERR [] x", Response{Status: StatusErr, Text: "[] x"}, false},
		{"+ ", Response{Status: StatusContinue}, false},
		{"+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+", Response{Status: StatusContinue, Text: "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+"}, false},
		{"+ok fine", Response{Status: StatusOK, Text: "fine"}, false},
		{"+OKAY", Response{}, true},
		{"220 smtp.example", Response{}, true},
		{"", Response{}, true},
	} {
		got, err := ParseStatus(tc.line)
		if (err != nil) != tc.err {
			t.Errorf("ParseStatus(%q) error = %v, want error %v", tc.line, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		got.Raw = nil
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseStatus(%q) = %+v, want %+v", tc.line, got, tc.want)
		}
	}
}

func TestStuffing(t *testing.T) {
	body := "Subject: t\r\n\r\n.\r\n.hidden\r\nplain\r\n"
	lines := SplitBody(body)
	wire := EncodeLines(lines)
	if want := []string{"Subject: t", "", "..", "..hidden", "plain", "."}; !reflect.DeepEqual(wire, want) {
		t.Fatalf("EncodeLines = %q, want %q", wire, want)
	}
	var back []string
	for _, w := range wire {
		text, end, _ := Unstuff(w)
		if end {
			break
		}
		back = append(back, text)
	}
	if JoinBody(back) != body {
		t.Errorf("round trip = %q, want %q", JoinBody(back), body)
	}
}

func TestExplain(t *testing.T) {
	has := func(ns []note.Note, sub string, sev note.Severity) bool {
		for _, n := range ns {
			if strings.Contains(n.Summary+n.Detail+n.Next, sub) && n.Severity == sev {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		name string
		got  []note.Note
		sub  string
		sev  note.Severity
	}{
		{"dele marks", ExplainResponse(OK("marked"), Transaction, "DELE", "1"), "only marked", note.Success},
		{"dropped connection", ExplainResponse(OK("marked"), Transaction, "DELE", "1"), "nothing is deleted", note.Success},
		{"quit update", ExplainResponse(OK("bye"), Transaction, "QUIT", ""), "UPDATE", note.Success},
		{"quit before login", ExplainResponse(OK("bye"), Authorization, "QUIT", ""), "nothing changed", note.Success},
		{"in-use", ExplainResponse(ErrCode("IN-USE", "locked"), Authorization, "PASS", "x"), "[IN-USE]", note.Warning},
		{"login failed", ExplainResponse(Err("nope"), Authorization, "PASS", "x"), "login failed", note.Error},
		{"stat", ExplainResponse(OK("2 320"), Transaction, "STAT", ""), "2 message(s), 320 octets", note.Success},
		{"greeting apop", ExplainResponse(OK("ready <1.2@x>"), Authorization, "", ""), "<1.2@x>", note.Success},
		{"stuffed", ExplainResponse(Response{Status: StatusOK, Multi: true, Lines: []string{"."}, Unstuffed: 1}, Transaction, "RETR", "1"), "byte-stuffing", note.Info},
		{"retr wrong state", ExplainCommand("retr 1", Authorization), "Log in first", note.Warning},
		{"retr no arg", ExplainCommand("RETR", Transaction), "missing argument", note.Warning},
		{"pass cleartext", ExplainCommand("PASS hungry", Authorization), "password crosses", note.Warning},
		{"unknown", ExplainCommand("HELO x", Authorization), "not a POP3 command", note.Warning},
		{"capa", []note.Note{ExplainCapability("SASL PLAIN")}, "SASL: the AUTH command accepts", note.Info},
		{"capa count", ExplainResponse(OKMulti("", []string{"TOP", "SASL PLAIN"}), Authorization, "CAPA", ""), "2 capabilities", note.Success},
		{"lower case", ExplainResponse(Response{Status: StatusOK, Raw: []string{"+ok"}}, Transaction, "NOOP", ""), "upper case", note.Warning},
	} {
		if !has(tc.got, tc.sub, tc.sev) {
			t.Errorf("%s: no %v note containing %q in %+v", tc.name, tc.sev, tc.sub, tc.got)
		}
	}
	for verb := range Commands {
		ns := ExplainCommand(verb, Transaction)
		if len(ns) == 0 || ns[0].Summary == "" || ns[0].Ref == "" {
			t.Errorf("ExplainCommand(%s) lacks a summary or reference: %+v", verb, ns)
		}
	}
}
