package maildir

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	pimap "github.com/mailx-edu/mailx/proto/imap"
)

// Inbox is the name of the folder kept in the Maildir root. IMAP treats it
// case-insensitively (RFC 9051 §5.1).
const Inbox = "INBOX"

// Delim separates the levels of a folder name ("Archive.2024"), as in every
// Maildir++ store: the folder's directory is the name with a leading dot.
const Delim = '.'

// SpecialUse maps the folders every account gets to their RFC 6154
// special-use attribute, so clients put sent mail and drafts in the right
// place without asking the user.
var SpecialUse = map[string]string{"Sent": `\Sent`, "Drafts": `\Drafts`, "Trash": `\Trash`, "Junk": `\Junk`}

// SubscriptionsName is the file in the Maildir root listing the folders the
// user subscribed to (IMAP LSUB), one per line, as Courier and Dovecot keep it.
const SubscriptionsName = "subscriptions"

// Errors for folder names and operations. The IMAP server turns them into NO
// replies that say what to do.
var (
	ErrBadName  = errors.New("maildir: invalid folder name")
	ErrNoFolder = errors.New("maildir: no such folder")
	ErrExistsF  = errors.New("maildir: folder already exists")
	ErrInbox    = errors.New("maildir: INBOX cannot be deleted")
)

// Mailbox is one user's Maildir++ store: the root holds INBOX, and each other
// folder is a ".Name" directory in it.
type Mailbox struct {
	root string
	mu   sync.Mutex // serialises CREATE/DELETE/RENAME and the subscriptions file
	// settler runs before messages leave the mailbox (SetSettler).
	settler Settler

	// Migrated lists the folders whose directories OpenMailbox renamed
	// from UTF-8 (as mailx named them before) to modified UTF-7, as
	// "old -> new" directory names, for the caller to log.
	Migrated []string
}

// OpenMailbox opens the Maildir++ store at root, creating it and the default
// folders (Sent, Drafts, Trash, Junk) if needed, and subscribing to them the first
// time.
func OpenMailbox(root string) (*Mailbox, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	fresh := false
	if _, err := os.Stat(filepath.Join(abs, SubscriptionsName)); errors.Is(err, os.ErrNotExist) {
		fresh = true
	}
	if err := Create(abs); err != nil {
		return nil, err
	}
	mb := &Mailbox{root: abs}
	migrated, err := migrateNames(abs)
	if err != nil {
		return nil, err
	}
	mb.Migrated = migrated
	if fresh {
		subs := []string{Inbox}
		for _, f := range Folders {
			subs = append(subs, strings.TrimPrefix(f, "."))
		}
		if err := mb.writeSubs(subs); err != nil {
			return nil, err
		}
	}
	return mb, nil
}

// migrateNames renames folder directories that earlier versions of mailx
// named in UTF-8 (".Entwürfe") to the modified UTF-7 that Dovecot and
// Courier use (".Entw&APw-rfe"). Each rename is atomic, so a crash leaves
// every folder under its old or its new name, and the next start finishes
// the job. A folder whose new name is taken is left alone (and reported).
func migrateNames(root string) ([]string, error) {
	names, err := readNames(root)
	if err != nil {
		return nil, fmt.Errorf("maildir: %w", err)
	}
	var done []string
	for _, n := range names {
		if len(n) < 2 || n[0] != Delim || n == ".." {
			continue
		}
		if _, ok := FolderName(n); ok {
			continue // already modified UTF-7 (or plain ASCII)
		}
		name, err := CheckName(n[1:])
		if err != nil || name == Inbox || !isMaildir(filepath.Join(root, n)) {
			continue
		}
		to := DirName(name)
		if _, err := os.Lstat(filepath.Join(root, to)); err == nil {
			done = append(done, fmt.Sprintf("%s -> %s not done: %s exists", n, to, to))
			continue
		}
		if err := os.Rename(filepath.Join(root, n), filepath.Join(root, to)); err != nil {
			return done, fmt.Errorf("maildir: rename folder %s to %s: %w", n, to, err)
		}
		forget(filepath.Join(root, n))
		done = append(done, n+" -> "+to)
	}
	if len(done) > 0 {
		if err := SyncDir(root); err != nil {
			return done, err
		}
	}
	return done, nil
}

// Root returns the Maildir root directory.
func (mb *Mailbox) Root() string { return mb.root }

// CheckName validates a folder name and returns it in canonical form (INBOX
// in upper case). Names must not be able to leave the user's directory or to
// make a file name some operating system refuses: no '/', '\', NUL or other
// control characters, no empty level ("a..b", ".a", "a."), none of the
// characters Windows forbids, and no longer than 200 octets.
func CheckName(name string) (string, error) {
	if strings.EqualFold(name, Inbox) {
		return Inbox, nil
	}
	if name == "" || len(name) > 200 || !utf8.ValidString(name) {
		return "", fmt.Errorf("%w %q: use 1 to 200 characters of UTF-8", ErrBadName, name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`/\:*?"<>|`, r) {
			return "", fmt.Errorf("%w %q: it may not contain control characters or any of / \\ : * ? \" < > |", ErrBadName, name)
		}
	}
	if filepath.IsAbs(name) || name[0] == Delim || name[len(name)-1] == Delim || strings.Contains(name, "..") {
		return "", fmt.Errorf("%w %q: '.' separates levels (as in Archive.2024), so it cannot start or end a name or appear twice in a row", ErrBadName, name)
	}
	if first, rest, ok := strings.Cut(name, string(Delim)); ok && strings.EqualFold(first, Inbox) {
		name = Inbox + string(Delim) + rest
	}
	return name, nil
}

// dir returns the directory of a canonical folder name: "." and the name
// in modified UTF-7 (RFC 3501 §5.1.3), as Dovecot and Courier name
// Maildir++ folders, so "Entwürfe" is ".Entw&APw-rfe" and both servers
// can share the Maildir.
func (mb *Mailbox) dir(name string) string {
	if name == Inbox {
		return mb.root
	}
	return filepath.Join(mb.root, DirName(name))
}

// DirName returns the directory name (".Entw&APw-rfe") of a folder name.
func DirName(name string) string { return string(Delim) + pimap.EncodeUTF7(name) }

// FolderName returns the folder name of a Maildir++ directory name, or ""
// and false when it is not one (no leading dot, or not modified UTF-7).
func FolderName(dir string) (string, bool) {
	if len(dir) < 2 || dir[0] != Delim || dir == ".." {
		return "", false
	}
	name, err := pimap.DecodeUTF7(dir[1:])
	if err != nil {
		return "", false
	}
	return name, true
}

// Folder opens a folder by name.
func (mb *Mailbox) Folder(name string) (*Folder, error) {
	name, err := CheckName(name)
	if err != nil {
		return nil, err
	}
	dir := mb.dir(name)
	if name != Inbox && !isMaildir(dir) {
		return nil, fmt.Errorf("%w %q", ErrNoFolder, name)
	}
	f, err := OpenFolder(dir)
	if err == nil {
		f.settler.set(mb.settler)
	}
	return f, err
}

func isMaildir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, Cur))
	return err == nil && st.IsDir()
}

// FolderInfo describes one folder for IMAP LIST.
type FolderInfo struct {
	Name       string
	SpecialUse string // "\Sent", … or ""
	NoSelect   bool   // a level that only exists because a folder below it does
	Children   bool
	Subscribed bool
}

// List returns every folder, INBOX first, then by name. Levels implied by
// deeper folders ("Archive" for "Archive.2024") are listed as NoSelect.
func (mb *Mailbox) List() ([]FolderInfo, error) {
	names, err := readNames(mb.root)
	if err != nil {
		return nil, fmt.Errorf("maildir: %w", err)
	}
	exists := map[string]bool{Inbox: true}
	for _, n := range names {
		dec, ok := FolderName(n)
		if !ok {
			continue
		}
		name, err := CheckName(dec)
		if err != nil || name == Inbox || !isMaildir(filepath.Join(mb.root, n)) {
			continue
		}
		exists[name] = true
	}
	all := map[string]bool{}
	for n := range exists {
		all[n] = true
		for i := strings.IndexByte(n, Delim); i >= 0; i = next(n, i) {
			if !exists[n[:i]] {
				all[n[:i]] = false
			}
		}
	}
	subs := mb.subscriptions()
	out := make([]FolderInfo, 0, len(all))
	for n, real := range all {
		fi := FolderInfo{Name: n, SpecialUse: SpecialUse[n], NoSelect: !real, Subscribed: subs[n]}
		prefix := n + string(Delim)
		for other := range all {
			if strings.HasPrefix(other, prefix) {
				fi.Children = true
				break
			}
		}
		out = append(out, fi)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Name == Inbox) != (out[j].Name == Inbox) {
			return out[i].Name == Inbox
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func next(s string, i int) int {
	j := strings.IndexByte(s[i+1:], Delim)
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// Create makes a new folder. Creating "a.b" also works when "a" does not
// exist; "a" is then listed as a level without messages.
func (mb *Mailbox) Create(name string) error {
	name, err := CheckName(name)
	if err != nil {
		return err
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	dir := mb.dir(name)
	if name == Inbox || isMaildir(dir) {
		return fmt.Errorf("%w: %q", ErrExistsF, name)
	}
	if err := createDir(dir); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, FolderMarker), nil, 0o600); err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	return SyncDir(mb.root)
}

// Delete removes a folder and its messages. Folders below it stay (IMAP
// lists the deleted level as \Noselect while they exist).
func (mb *Mailbox) Delete(name string) error {
	name, err := CheckName(name)
	if err != nil {
		return err
	}
	if name == Inbox {
		return ErrInbox
	}
	// Files leave the tree: the intake journal must not bring them back
	// after a crash (see Settler), as for Expunge.
	runSettler(mb.settler)
	mb.mu.Lock()
	defer mb.mu.Unlock()
	dir := mb.dir(name)
	if !isMaildir(dir) {
		return fmt.Errorf("%w %q", ErrNoFolder, name)
	}
	// Rename first, so no session can open a half-deleted folder, then remove.
	trash := filepath.Join(mb.root, Tmp, "deleted-"+UniqueName(time.Now()))
	if err := os.Rename(dir, trash); err != nil {
		return fmt.Errorf("maildir: delete %q: %w", name, err)
	}
	forget(dir)
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("maildir: delete %q: %w", name, err)
	}
	// The name stays subscribed: RFC 3501 §6.3.6 forbids a server to drop
	// a name from the subscription list because its mailbox is gone.
	return nil
}

// Rename renames a folder and every folder below it. Renaming INBOX moves
// its messages into the new folder and leaves INBOX empty (RFC 9051 §6.3.6).
func (mb *Mailbox) Rename(from, to string) error {
	from, err := CheckName(from)
	if err != nil {
		return err
	}
	to, err = CheckName(to)
	if err != nil {
		return err
	}
	if to == Inbox {
		return fmt.Errorf("%w: %q", ErrExistsF, Inbox)
	}
	if strings.HasPrefix(to+string(Delim), from+string(Delim)) {
		return fmt.Errorf("%w %q: a folder cannot be moved inside itself", ErrBadName, to)
	}
	// Messages leave the folder they were delivered to (all of INBOX's,
	// for RENAME INBOX): a replay of the intake journal after a crash would
	// write them into INBOX again. Settle it first, as Expunge does.
	runSettler(mb.settler)
	mb.mu.Lock()
	defer mb.mu.Unlock()
	if isMaildir(mb.dir(to)) {
		return fmt.Errorf("%w: %q", ErrExistsF, to)
	}
	if from == Inbox {
		return mb.renameInbox(to)
	}
	if !isMaildir(mb.dir(from)) {
		return fmt.Errorf("%w %q", ErrNoFolder, from)
	}
	names, err := readNames(mb.root)
	if err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	prefix := from + string(Delim)
	var moved []string
	for _, n := range names {
		if dec, ok := FolderName(n); ok && (dec == from || strings.HasPrefix(dec, prefix)) {
			moved = append(moved, dec)
		}
	}
	for _, old := range moved {
		newName := to + strings.TrimPrefix(old, from)
		if err := os.Rename(filepath.Join(mb.root, DirName(old)), filepath.Join(mb.root, DirName(newName))); err != nil {
			return fmt.Errorf("maildir: rename %q: %w", old, err)
		}
		forget(filepath.Join(mb.root, DirName(old)))
		if mb.subscriptions()[old] {
			mb.setSubscribed(old, false)
			mb.setSubscribed(newName, true)
		}
	}
	return SyncDir(mb.root)
}

func (mb *Mailbox) renameInbox(to string) error {
	dir := mb.dir(to)
	if err := createDir(dir); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, FolderMarker), nil, 0o600); err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	inbox, err := OpenFolder(mb.root)
	if err != nil {
		return err
	}
	return inbox.moveAllTo(dir)
}

// moveAllTo renames every message file into another folder's cur/ and
// expunges it here: RENAME INBOX.
func (f *Folder) moveAllTo(dir string) (err error) {
	f.mu.Lock()
	var v uint64
	defer func() {
		if v > 0 {
			if cerr := f.commitIndex(v, needDurable); err == nil {
				err = cerr
			}
		}
	}()
	defer f.mu.Unlock()
	if err := f.refreshLocked(false); err != nil {
		return err
	}
	for i := len(f.msgs) - 1; i >= 0; i-- {
		m := f.msgs[i]
		if m.expunging {
			continue // Expunge is unlinking it: it goes, it does not move
		}
		err := os.Rename(f.path(m), filepath.Join(dir, Cur, curName(m.Key, m.Flags, m.Extra)))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("maildir: rename INBOX: %w", err)
		}
		f.emit(Change{Kind: Expunged, Seq: uint32(i + 1), UID: m.UID})
		delete(f.byKey, m.Key)
		f.msgs = append(f.msgs[:i], f.msgs[i+1:]...)
	}
	v = f.dirtyLocked()
	return nil
}

// Subscribe adds a folder to the subscription list (IMAP SUBSCRIBE).
func (mb *Mailbox) Subscribe(name string) error { return mb.subscribe(name, true) }

// Unsubscribe removes a folder from the subscription list.
func (mb *Mailbox) Unsubscribe(name string) error { return mb.subscribe(name, false) }

func (mb *Mailbox) subscribe(name string, on bool) error {
	name, err := CheckName(name)
	if err != nil {
		return err
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return mb.setSubscribed(name, on)
}

// Subscriptions returns the subscribed folder names, sorted. Names stay
// subscribed when their folder is deleted, as RFC 9051 §6.3.7 asks.
func (mb *Mailbox) Subscriptions() []string {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	subs := mb.subscriptions()
	out := make([]string, 0, len(subs))
	for n := range subs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (mb *Mailbox) subscriptions() map[string]bool {
	subs := map[string]bool{}
	f, err := os.Open(filepath.Join(mb.root, SubscriptionsName))
	if err != nil {
		return subs
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if n, err := CheckName(strings.TrimSpace(sc.Text())); err == nil {
			subs[n] = true
		}
	}
	return subs
}

func (mb *Mailbox) setSubscribed(name string, on bool) error {
	subs := mb.subscriptions()
	if subs[name] == on {
		return nil
	}
	if on {
		subs[name] = true
	} else {
		delete(subs, name)
	}
	list := make([]string, 0, len(subs))
	for n := range subs {
		list = append(list, n)
	}
	sort.Strings(list)
	return mb.writeSubs(list)
}

func (mb *Mailbox) writeSubs(list []string) error {
	// A name of its own: two first logins at once (two processes, or two
	// sessions of a new user) each write the file.
	tmp := filepath.Join(mb.root, Tmp, SubscriptionsName+"."+UniqueName(time.Now()))
	if err := os.WriteFile(tmp, []byte(strings.Join(list, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(mb.root, SubscriptionsName)); err != nil {
		return fmt.Errorf("maildir: %w", err)
	}
	return nil
}
