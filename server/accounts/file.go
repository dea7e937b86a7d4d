package accounts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// File is the accounts file: the users of `mailx serve` with their
// password hashes.
type File struct {
	path    string
	users   map[string][]byte
	modTime time.Time
}

// Load reads the accounts file at path. A missing file is an empty
// database, not an error. Errors name the line and what is wrong.
func Load(path string) (*File, error) {
	f := &File{path: path, users: map[string][]byte{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	if fi, err := os.Stat(path); err == nil {
		f.modTime = fi.ModTime()
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hash, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected NAME:HASH; recreate the user with: mailx serve user add NAME", path, n)
		}
		if err := ValidName(name); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		if !strings.HasPrefix(hash, "$2") {
			return nil, fmt.Errorf("%s:%d: the password of %s is not a bcrypt hash ($2a$...); set it with: mailx serve user passwd %s", path, n, name, name)
		}
		f.users[name] = []byte(hash)
	}
	return f, nil
}

// Users returns the user names in alphabetical order.
func (f *File) Users() []string {
	out := make([]string, 0, len(f.users))
	for u := range f.users {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// Hashes returns a copy of the name → hash map, for Config.Users.
func (f *File) Hashes() map[string][]byte {
	m := make(map[string][]byte, len(f.users))
	for u, h := range f.users {
		m[u] = h
	}
	return m
}

// Has reports whether name is a user.
func (f *File) Has(name string) bool { _, ok := f.users[name]; return ok }

// Set creates the user or changes the password.
func (f *File) Set(name, password string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	h, err := Hash(password)
	if err != nil {
		return err
	}
	f.users[name] = h
	return nil
}

// Delete removes the user; it reports whether the user existed.
func (f *File) Delete(name string) bool {
	_, ok := f.users[name]
	delete(f.users, name)
	return ok
}

// Save writes the file atomically (temporary file, fsync, rename), readable
// by its owner only.
func (f *File) Save() error {
	var b bytes.Buffer
	b.WriteString("# mailx accounts: one user per line, NAME:BCRYPT-HASH.\n")
	b.WriteString("# Edit with: mailx serve user add|del|passwd NAME\n")
	for _, u := range f.Users() {
		fmt.Fprintf(&b, "%s:%s\n", u, f.users[u])
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.path), ".accounts-*")
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("accounts: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("accounts: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	return nil
}
