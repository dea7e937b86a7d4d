package mime

import (
	"fmt"
	stdmime "mime"
	"sort"
	"strconv"
	"strings"
)

// ParseMediaType reads a Content-Type or Content-Disposition value, as the
// standard library's mime.ParseMediaType does, and then decodes RFC 2231
// parameters in every charset mailx knows. The standard library decodes
// only UTF-8 and US-ASCII ones and drops the rest without a word, so
//
//	filename*=iso-8859-1''caf%E9.txt
//	filename*0*=iso-8859-1'de'caf%E9; filename*1=.txt
//
// gave no name, or ".txt"; both give "café.txt" here, as Python's email
// package and mutt read them. Parameter names come back in lower case.
func ParseMediaType(v string) (mediatype string, params map[string]string, err error) {
	mediatype, params, err = stdmime.ParseMediaType(v)
	if mediatype == "" || !strings.Contains(v, "*") {
		return mediatype, params, err
	}
	ext, _ := DecodeRFC2231(v)
	if len(ext) > 0 && params == nil {
		params = map[string]string{}
	}
	for name, val := range ext {
		params[name] = val
	}
	return mediatype, params, err
}

// maxContinuations bounds the segments of one RFC 2231 parameter: real
// mailers split a long file name into a handful; a thousand segments is an
// attack on the decoder, not a file name.
const maxContinuations = 1000

// DecodeRFC2231 returns the parameters of a header value written in RFC
// 2231 form (name*=charset'lang'%XX..., name*0*=..., name*1=...), decoded
// to UTF-8, with their names in lower case. Plain parameters are not
// returned. A parameter whose charset mailx does not know, or whose
// encoding is malformed, is still returned as well as it can be (unknown
// bytes as U+FFFD) together with an error saying which one.
func DecodeRFC2231(v string) (map[string]string, error) {
	type segment struct {
		n       int
		encoded bool
		value   string
	}
	segs := map[string][]segment{}
	for _, kv := range splitParams(v) {
		key, val, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		key = strings.ToLower(strings.TrimSpace(key))
		val = strings.TrimSpace(val)
		star := strings.IndexByte(key, '*')
		if star <= 0 {
			continue
		}
		name, rest := key[:star], key[star+1:]
		seg := segment{value: unquote(val)}
		switch {
		case rest == "":
			seg.encoded = true
		case strings.HasSuffix(rest, "*"):
			seg.encoded = true
			rest = strings.TrimSuffix(rest, "*")
			fallthrough
		default:
			n, err := strconv.Atoi(rest)
			if err != nil || n < 0 || n >= maxContinuations || (len(rest) > 1 && rest[0] == '0') {
				continue
			}
			seg.n = n
		}
		if len(segs[name]) >= maxContinuations {
			continue
		}
		segs[name] = append(segs[name], seg)
	}
	out := map[string]string{}
	var firstErr error
	names := make([]string, 0, len(segs))
	for name := range segs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ss := segs[name]
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].n < ss[j].n })
		var raw []byte
		charset := ""
		for i, s := range ss {
			if i != s.n {
				break // a gap: RFC 2231 §3 says the segments are numbered from 0 without holes
			}
			val := s.value
			if s.encoded {
				if i == 0 {
					parts := strings.SplitN(val, "'", 3)
					if len(parts) == 3 {
						charset, val = parts[0], parts[2]
					}
				}
				dec, err := percentDecode(val)
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("parameter %s: %w", name, err)
				}
				raw = append(raw, dec...)
			} else {
				raw = append(raw, val...)
			}
		}
		if charset == "" {
			charset = "us-ascii"
		}
		s, ok := DecodeCharset(raw, charset)
		if !ok && firstErr == nil {
			firstErr = fmt.Errorf("parameter %s: unknown charset %s", name, strqv(charset))
		}
		out[name] = s
	}
	return out, firstErr
}

// splitParams splits "type/sub; a=1; b="x;y"" at the semicolons outside
// quoted strings and returns the parameters (the media type is dropped).
func splitParams(v string) []string {
	var out []string
	var cur strings.Builder
	inQuote, esc := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case esc:
			esc = false
		case inQuote && c == '\\':
			esc = true
		case c == '"':
			inQuote = !inQuote
		case c == ';' && !inQuote:
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	out = append(out, cur.String())
	return out[1:]
}

func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// percentDecode undoes RFC 2231's %XX escapes; a malformed escape is kept
// as written and reported.
func percentDecode(s string) ([]byte, error) {
	var out []byte
	var err error
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if i+3 <= len(s) {
				if n, perr := strconv.ParseUint(s[i+1:i+3], 16, 8); perr == nil {
					out = append(out, byte(n))
					i += 2
					continue
				}
			}
			if err == nil {
				err = fmt.Errorf("malformed %%-escape at %q", s[i:min(len(s), i+3)])
			}
		}
		out = append(out, s[i])
	}
	return out, err
}
