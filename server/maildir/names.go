package maildir

import (
	"strconv"
	"strings"
)

// readSeps are the info separators a reader accepts whatever the platform:
// ":2," as the Maildir specification writes it, and ";2," which mailx (like
// Dovecot configured for it) writes on Windows, where ':' cannot appear in a
// file name. Accepting both lets a Maildir copied between systems still open.
var readSeps = [...]string{":2,", ";2,"}

// SplitName splits a Maildir file name into its unique key and its info
// letters. ok is false for names that carry no info part (files in new/).
//
//	1700000000.M12P34Q5.mx.test,S=498:2,RS → "1700000000.M12P34Q5.mx.test,S=498", "RS", true
func SplitName(name string) (key, info string, ok bool) {
	best := -1
	for _, sep := range readSeps {
		if i := strings.LastIndex(name, sep); i > best {
			best = i
		}
	}
	if best < 0 {
		return name, "", false
	}
	return name[:best], name[best+3:], true
}

// curName returns the file name a message gets in cur/: its key, the
// platform's info separator and its sorted flag letters.
func curName(key string, f Flags, extra string) string {
	return key + InfoPrefix + infoString(f, extra)
}

// sizeFromKey reads the ",S=<octets>" field some deliverers (mailx, Dovecot,
// Courier) put in the key, and ",W=<octets>" (Dovecot's size with CRLF line
// ends). It returns -1 when absent.
func sizeFromKey(key, field string) int64 {
	// The fields follow the host part, separated by commas: "host,S=12,W=13".
	_, rest, ok := strings.Cut(key, ",")
	if !ok {
		return -1
	}
	for _, f := range strings.Split(rest, ",") {
		if v, found := strings.CutPrefix(f, field+"="); found {
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil && n >= 0 {
				return n
			}
		}
	}
	return -1
}

// validFileName reports whether a directory entry can be a message: Maildir
// readers skip dot files (editors' and tools' temporary files) and anything
// with a path separator or control character (NUL, CR, LF), which a hostile
// name could use to escape the folder or corrupt the uidlist.
func validFileName(name string) bool {
	if name == "" || name[0] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < ' ' || c == '/' || c == '\\' || c == 0x7f {
			return false
		}
	}
	return true
}
