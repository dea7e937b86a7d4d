package maildir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The three subdirectories of every Maildir and Maildir++ folder. A message is
// written in tmp, moved to new once complete (so a reader never sees half a
// message), and moved to cur by the first reader that has seen it.
const (
	Tmp = "tmp"
	New = "new"
	Cur = "cur"
)

// Folders are the Maildir++ folders created for every account next to its
// INBOX. Maildir++ keeps each folder as a hidden subdirectory whose name starts
// with a dot and that holds its own cur/new/tmp and an empty "maildirfolder"
// file (which tells delivery agents it is a folder, not a root).
var Folders = []string{".Sent", ".Drafts", ".Trash", ".Junk"}

// FolderMarker is the empty file that marks a Maildir++ folder.
const FolderMarker = "maildirfolder"

// InfoPrefix is what starts the info part of a file name in cur/: InfoSep
// followed by "2," (version 2 of the info: a list of flag letters).
const InfoPrefix = InfoSep + "2,"

// MailDir is the directory holding every account's Maildir inside a mailx
// data directory (DATA/mail).
const MailDir = "mail"

// Root returns the Maildir root of user inside the data directory:
// DATA/mail/<user>. The user name must be valid (see ValidUser).
func Root(dataDir, user string) string {
	return filepath.Join(dataDir, MailDir, user)
}

// ValidUser reports whether name can be used as an account and thus as a
// directory name on every platform: 1 to 64 characters from a-z, 0-9, '.',
// '_' and '-', not starting with '.' or '-'. Lower case only, because local
// parts are matched case-insensitively and Windows and macOS file systems
// are case-insensitive.
func ValidUser(name string) bool {
	if name == "" || len(name) > 64 || name[0] == '.' || name[0] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Create makes sure root is a Maildir: it creates root and its tmp, new and
// cur subdirectories (mode 0700: mail is private) and the Maildir++ Folders,
// leaving anything that exists alone. It is safe to call on every start.
func Create(root string) error {
	if err := createDir(root); err != nil {
		return err
	}
	for _, f := range Folders {
		dir := filepath.Join(root, f)
		if err := createDir(dir); err != nil {
			return err
		}
		marker := filepath.Join(dir, FolderMarker)
		if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) {
			if err := os.WriteFile(marker, nil, 0o600); err != nil {
				return fmt.Errorf("maildir: %w", err)
			}
		}
	}
	return nil
}

// createDir creates dir and its tmp, new and cur subdirectories.
func createDir(dir string) error {
	for _, d := range []string{dir, filepath.Join(dir, Tmp), filepath.Join(dir, New), filepath.Join(dir, Cur)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("maildir: %w", err)
		}
	}
	return nil
}
