package maildir

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// KeywordsName is the file, next to cur/ new/ tmp/, that names the keyword
// letters of a folder: lower-case info letters "a" to "z" in a file name
// stand for keywords 0 to 25, one "<index> <name>" line each. It is
// Dovecot's dovecot-keywords file, kept in Dovecot's format, so that a tag
// set in Thunderbird through mailx shows in Dovecot and the other way round.
const KeywordsName = "dovecot-keywords"

// MaxKeywords is how many keywords a folder can name: the letters a to z.
const MaxKeywords = 26

// ErrTooManyKeywords means a folder already uses all 26 keyword letters.
var ErrTooManyKeywords = errors.New("maildir: the folder already has 26 keywords, as many as Maildir file names can carry")

// parseKeywords reads a dovecot-keywords file. Lines it cannot read are
// skipped: a damaged line loses one keyword's name, not the folder.
func parseKeywords(data []byte) []string {
	var kw []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1024), 64<<10)
	for sc.Scan() {
		idx, name, ok := strings.Cut(sc.Text(), " ")
		n, err := strconv.Atoi(idx)
		if !ok || err != nil || n < 0 || n >= MaxKeywords || !validKeyword(name) {
			continue
		}
		for len(kw) <= n {
			kw = append(kw, "")
		}
		kw[n] = name
	}
	return kw
}

// validKeyword reports whether name can be an IMAP keyword (an atom,
// RFC 9051 §9 flag-keyword): no controls, spaces or atom-specials, and not
// a system flag.
func validKeyword(name string) bool {
	if name == "" || len(name) > 128 || name[0] == '\\' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return true
}

// loadKeywordsLocked rereads the keywords file when it changed on disk
// (another program, such as Dovecot, may have added a keyword).
func (f *Folder) loadKeywordsLocked() {
	st, err := os.Stat(filepath.Join(f.dir, KeywordsName))
	if err != nil {
		if f.kwMod.IsZero() {
			return
		}
		f.kw, f.kwMod = nil, time.Time{}
		return
	}
	if st.ModTime().Equal(f.kwMod) && f.kwSize == st.Size() {
		return
	}
	data, err := os.ReadFile(filepath.Join(f.dir, KeywordsName))
	if err != nil {
		return
	}
	f.kw, f.kwMod, f.kwSize = parseKeywords(data), st.ModTime(), st.Size()
}

// saveKeywordsLocked writes the keywords file atomically.
func (f *Folder) saveKeywordsLocked() error {
	var b bytes.Buffer
	for i, k := range f.kw {
		if k != "" {
			fmt.Fprintf(&b, "%d %s\n", i, k)
		}
	}
	tmp := filepath.Join(f.dir, KeywordsName+".tmp")
	if err := writeFileSync(tmp, b.Bytes()); err != nil {
		return fmt.Errorf("maildir: write %s: %w", KeywordsName, err)
	}
	if err := os.Rename(tmp, filepath.Join(f.dir, KeywordsName)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("maildir: write %s: %w", KeywordsName, err)
	}
	if st, err := os.Stat(filepath.Join(f.dir, KeywordsName)); err == nil {
		f.kwMod, f.kwSize = st.ModTime(), st.Size()
	}
	return SyncDir(f.dir)
}

func writeFileSync(path string, data []byte) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = fh.Write(data)
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	return err
}

// lettersLocked returns the info letters of the given keywords, in order,
// giving new keywords the next free letters when create is set (and
// skipping unknown ones otherwise). Names are matched case-insensitively.
func (f *Folder) lettersLocked(names []string, create bool) (string, error) {
	var out []byte
	added := false
	for _, n := range names {
		if !validKeyword(n) {
			continue
		}
		idx := -1
		for i, k := range f.kw {
			if strings.EqualFold(k, n) {
				idx = i
				break
			}
		}
		if idx < 0 {
			if !create {
				continue
			}
			for i, k := range f.kw {
				if k == "" {
					idx = i
					break
				}
			}
			if idx < 0 {
				if len(f.kw) >= MaxKeywords {
					return "", ErrTooManyKeywords
				}
				f.kw = append(f.kw, "")
				idx = len(f.kw) - 1
			}
			f.kw[idx] = n
			added = true
		}
		out = append(out, byte('a'+idx))
	}
	if added {
		if err := f.saveKeywordsLocked(); err != nil {
			return "", err
		}
		var table []string
		for _, k := range f.kw {
			if k != "" {
				table = append(table, k)
			}
		}
		f.emit(Change{Kind: KeywordsChanged, Keywords: table})
	}
	return string(out), nil
}

// keywordNamesLocked returns the keywords a message's extra info letters
// stand for, in letter order.
func (f *Folder) keywordNamesLocked(extra string) []string {
	var out []string
	for i := 0; i < len(extra); i++ {
		c := extra[i]
		if c < 'a' || c > 'z' {
			continue
		}
		if idx := int(c - 'a'); idx < len(f.kw) && f.kw[idx] != "" {
			out = append(out, f.kw[idx])
		}
	}
	return out
}

// Keywords returns the keyword names of a message's extra info letters
// (Message.Extra).
func (f *Folder) Keywords(extra string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.keywordNamesLocked(extra)
}

// KeywordTable returns the folder's keywords (for IMAP FLAGS at SELECT), in
// letter order, after a refresh.
func (f *Folder) KeywordTable() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshSoonLocked()
	var out []string
	for _, k := range f.kw {
		if k != "" {
			out = append(out, k)
		}
	}
	return out
}

// KeywordNamer returns a function that maps extra info letters to keyword
// names with the folder's current table, for use without the folder lock.
func (f *Folder) KeywordNamer() func(extra string) []string {
	f.mu.Lock()
	table := append([]string(nil), f.kw...)
	f.mu.Unlock()
	return func(extra string) []string {
		var out []string
		for i := 0; i < len(extra); i++ {
			c := extra[i]
			if c < 'a' || c > 'z' {
				continue
			}
			if idx := int(c - 'a'); idx < len(table) && table[idx] != "" {
				out = append(out, table[idx])
			}
		}
		return out
	}
}

// combineExtra applies a flag operation to the keyword letters in extra
// (other letters are kept as they are).
func combineExtra(extra string, op Op, letters string) string {
	has := func(s string, c byte) bool { return strings.IndexByte(s, c) >= 0 }
	var out []byte
	for i := 0; i < len(extra); i++ {
		c := extra[i]
		isKw := c >= 'a' && c <= 'z'
		switch {
		case !isKw:
			out = append(out, c)
		case op == Replace:
		case op == Remove && has(letters, c):
		default:
			out = append(out, c)
		}
	}
	if op != Remove {
		for i := 0; i < len(letters); i++ {
			if !has(string(out), letters[i]) {
				out = append(out, letters[i])
			}
		}
	}
	s, _ := sortedLetters(out)
	return s
}

func sortedLetters(b []byte) (string, bool) {
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && b[j] < b[j-1]; j-- {
			b[j], b[j-1] = b[j-1], b[j]
		}
	}
	return string(b), true
}
