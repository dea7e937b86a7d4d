//go:build windows

package maildir

// InfoSep separates a message file's unique name from its info ("2,FLAGS").
// Windows file names cannot contain ':', the separator the Maildir
// specification uses, so mailx writes ';' there (as several Windows mail
// programs do); readers accept both (see SplitName).
const InfoSep = ";"
