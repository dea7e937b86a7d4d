package access

import "strings"

// Hidden stands in the trace, the transcripts and the logs for whatever
// carried a password: base64 is an encoding and an APOP digest can be
// attacked offline, so neither may be kept in a file.
const Hidden = "********"

// RedactPOP3 returns a POP3 command line as the trace may show it: PASS,
// APOP and AUTH keep their verb (and the user name, or the mechanism) and
// lose the rest.
//
//	C: PASS hungry            → C: PASS ********
//	C: APOP alice c4c9…       → C: APOP alice ********
//	C: AUTH PLAIN AGFsaWNl…   → C: AUTH PLAIN ********
func RedactPOP3(line string) string {
	verb, rest, _ := strings.Cut(line, " ")
	switch strings.ToUpper(verb) {
	case "PASS":
		if rest != "" {
			return verb + " " + Hidden
		}
	case "APOP", "AUTH":
		first, more, ok := strings.Cut(strings.TrimLeft(rest, " "), " ")
		if ok && strings.TrimSpace(more) != "" {
			return verb + " " + first + " " + Hidden
		}
	}
	return line
}

// RedactIMAP returns an IMAP command line as the trace may show it, and
// whether the command carries credentials (LOGIN, AUTHENTICATE), so that
// its literals and continuation lines are hidden as well. LOGIN keeps the
// user name when it is an atom or a quoted string; AUTHENTICATE keeps the
// mechanism and hides an initial response.
//
//	C: a1 LOGIN alice hungry              → C: a1 LOGIN alice ********
//	C: a2 AUTHENTICATE PLAIN AGFsaWNl…    → C: a2 AUTHENTICATE PLAIN ********
func RedactIMAP(line string) (shown string, secret bool) {
	tag, rest, ok := strings.Cut(line, " ")
	if !ok {
		return line, false
	}
	verb, args, _ := strings.Cut(rest, " ")
	prefix := tag + " " + verb
	switch strings.ToUpper(verb) {
	case "LOGIN":
		user, more := imapString(args)
		if user == "" || more == "" {
			if args == "" {
				return line, true
			}
			return prefix + " " + Hidden, true
		}
		return prefix + " " + user + " " + Hidden, true
	case "AUTHENTICATE":
		mech, ir, _ := strings.Cut(args, " ")
		if strings.TrimSpace(ir) == "" {
			return line, true
		}
		return prefix + " " + mech + " " + Hidden, true
	}
	return line, false
}

// imapString splits the first argument, an atom or a quoted string, from
// the rest of s; it returns "" for anything else (a literal).
func imapString(s string) (arg, rest string) {
	if s == "" || s[0] == '{' {
		return "", s
	}
	if s[0] != '"' {
		a, r, ok := strings.Cut(s, " ")
		if !ok {
			return a, ""
		}
		if strings.ContainsAny(a, "{\"\\") {
			return "", s
		}
		return a, r
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[:i+1], strings.TrimPrefix(s[i+1:], " ")
		}
	}
	return "", s
}
