package access

import (
	"strings"
	"testing"
)

func TestRedactPOP3(t *testing.T) {
	for in, want := range map[string]string{
		"PASS hungry":    "PASS ********",
		"pass two words": "pass ********",
		"PASS":           "PASS",
		"APOP alice c4c9334bac560ecc979e58001b3e22fb": "APOP alice ********",
		"AUTH PLAIN AGFsaWNlAGh1bmdyeQ==":             "AUTH PLAIN ********",
		"AUTH PLAIN":                                  "AUTH PLAIN",
		"USER alice":                                  "USER alice",
		"RETR 1":                                      "RETR 1",
	} {
		if got := RedactPOP3(in); got != want {
			t.Errorf("RedactPOP3(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactIMAP(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		secret   bool
	}{
		{"a1 LOGIN alice hungry", "a1 LOGIN alice ********", true},
		{`a1 login "alice" "hun gry"`, `a1 login "alice" ********`, true},
		{`a1 LOGIN "al\"ice" {6}`, `a1 LOGIN "al\"ice" ********`, true},
		{"a1 LOGIN {5}", "a1 LOGIN ********", true},
		{"a1 LOGIN alice", "a1 LOGIN ********", true},
		{"a1 LOGIN", "a1 LOGIN", true},
		{"a2 AUTHENTICATE PLAIN", "a2 AUTHENTICATE PLAIN", true},
		{"a2 AUTHENTICATE PLAIN AGFsaWNlAGh1bmdyeQ==", "a2 AUTHENTICATE PLAIN ********", true},
		{"a3 SELECT INBOX", "a3 SELECT INBOX", false},
		{"DONE", "DONE", false},
	} {
		got, secret := RedactIMAP(tc.in)
		if got != tc.want || secret != tc.secret {
			t.Errorf("RedactIMAP(%q) = %q, %v; want %q, %v", tc.in, got, secret, tc.want, tc.secret)
		}
	}
}

// FuzzRedactIMAP: whatever the user name, a password after it never
// reaches the trace.
func FuzzRedactIMAP(f *testing.F) {
	for _, s := range [][2]string{{"alice", "hungry"}, {`"al ice"`, `"pass word"`}, {"{5}", "x"}, {`"a\"b"`, "{6}"}, {"", "secret"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, user, pass string) {
		if len(pass) < 4 || strings.ContainsAny(pass, " \r\n") || strings.Contains(user, pass) || strings.Contains("a LOGIN "+Hidden, pass) {
			return
		}
		line := "a LOGIN " + user + " " + pass
		got, secret := RedactIMAP(line)
		if !secret {
			t.Fatalf("RedactIMAP(%q) is not secret", line)
		}
		if strings.Contains(got, pass) {
			t.Fatalf("RedactIMAP(%q) = %q shows the password", line, got)
		}
		RedactPOP3("PASS " + user)
	})
}
