//go:build !windows

package maildir

// InfoSep separates a message file's unique name from its info ("2,FLAGS"),
// as in "1700000000.M1P2Q3.host:2,S". The Maildir specification uses ':';
// readers accept ';' as well (see SplitName), so a Maildir copied from
// Windows still reads.
const InfoSep = ":"
