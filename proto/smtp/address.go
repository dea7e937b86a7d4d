package smtp

import (
	"errors"
	"fmt"
	"strings"
)

// PathArg is the parsed argument of MAIL FROM: or RCPT TO:, as in
//
//	C: MAIL FROM:<alice@crepes.fr> SIZE=1200
type PathArg struct {
	Keyword string   // "FROM" or "TO", as required by the verb
	Address string   // the mailbox without angle brackets; "" for the null path <>
	Params  []string // ESMTP parameters after the path, such as SIZE=1200
	// Problems lists deviations from RFC 5321 that many servers tolerate
	// and some refuse: a space after the colon, missing angle brackets.
	Problems []string
}

// ParsePathArg reads the argument of MAIL (keyword "FROM") or RCPT ("TO").
// It is lenient the way real servers are, and says in Problems what a strict
// one would refuse; the error is for arguments no server accepts.
func ParsePathArg(arg, keyword string) (PathArg, error) {
	p := PathArg{Keyword: keyword}
	head, tail, ok := strings.Cut(arg, ":")
	if !ok || !strings.EqualFold(strings.TrimSpace(head), keyword) {
		return p, fmt.Errorf("expected %s:<address>", keyword)
	}
	if strings.TrimSpace(head) != head {
		p.Problems = append(p.Problems, fmt.Sprintf("no space belongs before the colon: %s:<address>", keyword))
	}
	if strings.HasPrefix(tail, " ") {
		p.Problems = append(p.Problems, fmt.Sprintf("RFC 5321 allows no space after \"%s:\"; many servers accept it, strict ones answer 501", keyword))
		tail = strings.TrimLeft(tail, " ")
	}
	if tail == "" {
		return p, errors.New("the address is missing")
	}
	var path string
	if strings.HasPrefix(tail, "<") {
		end := strings.IndexByte(tail, '>')
		if end < 0 {
			return p, errors.New("the closing > is missing")
		}
		path, tail = tail[1:end], tail[end+1:]
	} else {
		path, tail, _ = strings.Cut(tail, " ")
		p.Problems = append(p.Problems, fmt.Sprintf("the address must be in angle brackets: %s:<%s>", keyword, path))
	}
	// A source route "<@a,@b:user@c>" is obsolete; the mailbox follows the colon.
	if strings.HasPrefix(path, "@") {
		if i := strings.LastIndexByte(path, ':'); i >= 0 {
			p.Problems = append(p.Problems, "source routes (@host,@host:) are obsolete and ignored (RFC 5321 §4.1.1.3)")
			path = path[i+1:]
		}
	}
	p.Address = path
	p.Params = strings.Fields(tail)
	if path == "" && keyword == "TO" {
		return p, errors.New("the recipient cannot be empty (<> is only for MAIL FROM)")
	}
	if path != "" && keyword == "TO" && strings.EqualFold(path, "postmaster") {
		return p, nil // RFC 5321 §4.5.1: <Postmaster> without a domain is valid
	}
	if path != "" {
		at := strings.LastIndexByte(path, '@')
		if at <= 0 || at == len(path)-1 {
			return p, fmt.Errorf("%q is not an address of the form user@domain", path)
		}
	}
	return p, nil
}
