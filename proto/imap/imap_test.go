package imap

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mailx-edu/mailx/proto/note"
)

func TestTagger(t *testing.T) {
	var tg Tagger
	if a, b := tg.Next(), tg.Next(); a != "a001" || b != "a002" || tg.Count() != 2 {
		t.Errorf("tags = %s, %s", a, b)
	}
}

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		line          string
		tag, name, sb string
		lit           int64
		nonSync       bool
	}{
		{"LOGIN bob secret", "", "LOGIN", "", -1, false},
		{"a1 login bob secret", "a1", "LOGIN", "", -1, false},
		{"x7 XAPPLEPUSH", "x7", "XAPPLEPUSH", "", -1, false},
		{"uid fetch 1:* FLAGS", "", "UID", "FETCH", -1, false},
		{"t9 UID STORE 4 +FLAGS (\\Seen)", "t9", "UID", "STORE", -1, false},
		{"APPEND INBOX {310}", "", "APPEND", "", 310, false},
		{"A APPEND INBOX (\\Seen) {12+}", "A", "APPEND", "", 12, true},
		{"NOOP", "", "NOOP", "", -1, false},
		{"DONE", "", "DONE", "", -1, false},
	} {
		p := ParseCommand(tc.line)
		if p.Tag != tc.tag || p.Name != tc.name || p.Sub != tc.sb || p.Literal != tc.lit || p.NonSync != tc.nonSync {
			t.Errorf("ParseCommand(%q) = %+v", tc.line, p)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Response
	}{
		{"* OK [UIDVALIDITY 3857529045] UIDs valid", Response{Kind: Untagged, Status: "OK", Type: "OK", Code: "UIDVALIDITY", CodeArgs: "3857529045", Text: "UIDs valid"}},
		{"* 3 EXISTS", Response{Kind: Untagged, Number: 3, HasNumber: true, Type: "EXISTS"}},
		{"* 1 FETCH (FLAGS (\\Seen))", Response{Kind: Untagged, Number: 1, HasNumber: true, Type: "FETCH", Text: "(FLAGS (\\Seen))"}},
		{"* SEARCH 2 3", Response{Kind: Untagged, Type: "SEARCH", Text: "2 3"}},
		{"a001 OK [READ-WRITE] SELECT completed", Response{Kind: Tagged, Tag: "a001", Status: "OK", Type: "OK", Code: "READ-WRITE", Text: "SELECT completed"}},
		{"a002 no [TRYCREATE] no such mailbox", Response{Kind: Tagged, Tag: "a002", Status: "NO", Type: "NO", Code: "TRYCREATE", Text: "no such mailbox"}},
		{"+ Ready for literal data", Response{Kind: Continuation, Text: "Ready for literal data"}},
		{"+", Response{Kind: Continuation}},
		{"* BYE Autologout", Response{Kind: Untagged, Status: "BYE", Type: "BYE", Text: "Autologout"}},
		{"220 smtp", Response{Kind: Unknown, Tag: "220", Text: "smtp"}},
		{"", Response{Kind: Unknown}},
	} {
		if got := Parse(tc.line); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.line, got, tc.want)
		}
	}
}

func TestNext(t *testing.T) {
	for _, tc := range []struct {
		s            State
		name, status string
		want         State
	}{
		{NotAuthenticated, "LOGIN", "OK", Authenticated},
		{NotAuthenticated, "LOGIN", "NO", NotAuthenticated},
		{Authenticated, "SELECT", "OK", Selected},
		{Selected, "SELECT", "NO", Authenticated},
		{Selected, "CLOSE", "OK", Authenticated},
		{Selected, "LOGOUT", "OK", Logout},
		{Selected, "FETCH", "OK", Selected},
	} {
		if got := Next(tc.s, tc.name, tc.status); got != tc.want {
			t.Errorf("Next(%v, %s, %s) = %v, want %v", tc.s, tc.name, tc.status, got, tc.want)
		}
	}
	if Allowed("FETCH", Authenticated) || !Allowed("fetch", Selected) || !Allowed("IDLE", Selected) {
		t.Error("Allowed disagrees with RFC 3501")
	}
}

func TestExplain(t *testing.T) {
	has := func(ns []note.Note, sub string) bool {
		for _, n := range ns {
			if strings.Contains(n.Summary+n.Detail+n.Next, sub) {
				return true
			}
		}
		return false
	}
	sel := ParseCommand("a002 SELECT INBOX")
	for _, tc := range []struct {
		name string
		got  []note.Note
		sub  string
	}{
		{"exists", ExplainResponse(Parse("* 3 EXISTS"), Authenticated, sel), "holds 3 message(s)"},
		{"uidvalidity", ExplainResponse(Parse("* OK [UIDVALIDITY 1] x"), Authenticated, sel), "[UIDVALIDITY]"},
		{"read-write", ExplainResponse(Parse("a002 OK [READ-WRITE] done"), Authenticated, sel), "Selected state"},
		{"trycreate", ExplainResponse(Parse("a003 NO [TRYCREATE] no"), Selected, ParseCommand("COPY 1 Foo")), "CREATE it"},
		{"bad state", ExplainResponse(Parse("a1 BAD not now"), NotAuthenticated, ParseCommand("FETCH 1 FLAGS")), "Log in"},
		{"search", ExplainResponse(Parse("* SEARCH 2 5 9"), Selected, ParseCommand("SEARCH ALL")), "3 message(s) match"},
		{"fetch items", ExplainResponse(Parse("* 1 FETCH (FLAGS (\\Seen) UID 4)"), Selected, ParseCommand("FETCH 1 (FLAGS UID)")), "FLAGS, UID"},
		{"fetch section list", ExplainResponse(Parse(`* 1 FETCH (UID 1 BODY[HEADER.FIELDS ("SUBJECT")] {18}`), Selected, ParseCommand("FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")), `UID, BODY[HEADER.FIELDS ("SUBJECT")]`},
		{"list", ExplainResponse(Parse(`* LIST (\HasNoChildren) "." "INBOX"`), Authenticated, ParseCommand(`LIST "" *`)), `mailbox "INBOX"`},
		{"idle +", ExplainResponse(Parse("+ idling"), Selected, ParseCommand("IDLE")), "DONE"},
		{"literal +", ExplainResponse(Parse("+ Ready"), Authenticated, ParseCommand("APPEND INBOX {20}")), "20 octets"},
		{"greeting", ExplainResponse(Parse("* OK [CAPABILITY IMAP4rev1 IDLE] ready"), NotAuthenticated, ParsedCommand{Literal: -1}), "Not Authenticated"},
		{"capability", ExplainResponse(Parse("* CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN"), NotAuthenticated, ParseCommand("CAPABILITY")), "without waiting"},
		{"store deleted", ExplainCommand(ParseCommand(`STORE 1 +FLAGS (\Deleted)`), Selected), "EXPUNGE"},
		{"fetch seen", ExplainCommand(ParseCommand(`FETCH 1 BODY[]`), Selected), "BODY.PEEK"},
		{"vs pop3", ExplainCommand(ParseCommand(`SEARCH UNSEEN`), Selected), "POP3 vs IMAP"},
		{"wrong state", ExplainCommand(ParseCommand(`FETCH 1 FLAGS`), Authenticated), "SELECT INBOX"},
		{"uid", ExplainCommand(ParseCommand(`UID FETCH 1:* FLAGS`), Selected), "UIDs"},
	} {
		if !has(tc.got, tc.sub) {
			t.Errorf("%s: no note containing %q in %+v", tc.name, tc.sub, tc.got)
		}
	}
	for name := range Commands {
		ns := ExplainCommand(ParseCommand(name), Selected)
		if len(ns) == 0 || ns[0].Summary == "" || ns[0].Ref == "" {
			t.Errorf("ExplainCommand(%s) lacks a summary or reference", name)
		}
	}
}
