package imap

import (
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Modified UTF-7 (RFC 3501 §5.1.3) is how IMAP4rev1 spells a mailbox name
// outside ASCII on the wire, and how Dovecot and Courier name Maildir++
// folder directories on disk ("Entwürfe" is ".Entw&APw-rfe"). Printable
// ASCII stands for itself except "&", which is "&-"; anything else is "&",
// the UTF-16 code units in base64 with "," for "/" and no padding, and "-".

// ErrUTF7 reports a name that is not valid modified UTF-7.
var ErrUTF7 = errors.New("imap: not valid modified UTF-7")

const utf7Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"

var utf7Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(utf7Alphabet); i++ {
		t[utf7Alphabet[i]] = int8(i)
	}
	return t
}()

// EncodeUTF7 returns name in modified UTF-7. Invalid UTF-8 octets are
// encoded as U+FFFD.
func EncodeUTF7(name string) string {
	ascii := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c > 0x7e || c == '&' {
			ascii = false
			break
		}
	}
	if ascii {
		return name
	}
	var b strings.Builder
	var run []rune
	flush := func() {
		if len(run) == 0 {
			return
		}
		units := utf16.Encode(run)
		b.WriteByte('&')
		var acc uint32
		bits := 0
		for _, u := range units {
			acc = acc<<16 | uint32(u)
			bits += 16
			for bits >= 6 {
				bits -= 6
				b.WriteByte(utf7Alphabet[(acc>>uint(bits))&0x3f])
			}
		}
		if bits > 0 {
			b.WriteByte(utf7Alphabet[(acc<<uint(6-bits))&0x3f])
		}
		b.WriteByte('-')
		run = run[:0]
	}
	for _, r := range name {
		switch {
		case r == '&':
			flush()
			b.WriteString("&-")
		case r >= 0x20 && r <= 0x7e:
			flush()
			b.WriteRune(r)
		default:
			run = append(run, r)
		}
	}
	flush()
	return b.String()
}

// DecodeUTF7 decodes a modified UTF-7 name to UTF-8. It is strict, as RFC
// 3501 asks: octets outside printable ASCII, an unterminated or empty shift
// ("&" then "-" is the only empty one), non-zero padding bits, printable
// ASCII encoded in base64, and broken UTF-16 are all errors.
func DecodeUTF7(s string) (string, error) {
	if !strings.ContainsRune(s, '&') {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] > 0x7e {
				return "", ErrUTF7
			}
		}
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return "", ErrUTF7
		}
		if c != '&' {
			b.WriteByte(c)
			continue
		}
		j := strings.IndexByte(s[i+1:], '-')
		if j < 0 {
			return "", ErrUTF7
		}
		enc := s[i+1 : i+1+j]
		i += j + 1
		if enc == "" {
			b.WriteByte('&')
			continue
		}
		var units []uint16
		var acc uint32
		bits := 0
		for k := 0; k < len(enc); k++ {
			v := utf7Index[enc[k]]
			if v < 0 {
				return "", ErrUTF7
			}
			acc = acc<<6 | uint32(v)
			bits += 6
			if bits >= 16 {
				bits -= 16
				units = append(units, uint16(acc>>uint(bits)))
			}
		}
		if bits >= 6 || acc&(1<<uint(bits)-1) != 0 || len(units) == 0 {
			return "", ErrUTF7
		}
		for k := 0; k < len(units); k++ {
			u := units[k]
			var r rune
			switch {
			case utf16.IsSurrogate(rune(u)):
				if u >= 0xdc00 || k+1 >= len(units) {
					return "", ErrUTF7
				}
				r = utf16.DecodeRune(rune(u), rune(units[k+1]))
				if r == utf8.RuneError {
					return "", ErrUTF7
				}
				k++
			default:
				r = rune(u)
			}
			if r >= 0x20 && r <= 0x7e {
				return "", ErrUTF7 // printable ASCII must stand for itself
			}
			b.WriteRune(r)
		}
		// Two shifts in a row ("&AOQ-&APY-") must have been one.
		if i+1 < len(s) && s[i+1] == '&' && i+2 < len(s) && s[i+2] != '-' {
			return "", ErrUTF7
		}
	}
	return b.String(), nil
}
