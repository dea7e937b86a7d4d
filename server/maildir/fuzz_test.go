package maildir

import (
	"strings"
	"testing"
)

// FuzzParseUIDList: the index is read back from disk, where another
// program or a crash may have left anything. It must never panic, and every
// entry it accepts must be usable: a valid key, a UID below UIDNEXT.
func FuzzParseUIDList(f *testing.F) {
	f.Add([]byte("mailx-uidlist 1 V1700000000 N3\n1 10 9 1700000000000000000 1700000000.M1P2Q3.host,S=9,W=10\n2 5 5 0 other\n"))
	f.Add([]byte("mailx-uidlist 1 V1 N1\n"))
	f.Add([]byte("mailx-uidlist 1 V4294967295 N4294967295\n4294967295 1 1 1 k\n"))
	f.Add([]byte("3 V1 N2\n1 key\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := parseUIDList(data)
		if err != nil || l == nil {
			return
		}
		for k, e := range l.entries {
			if !validFileName(k) || e.uid == 0 || e.uid >= l.next && l.next != 0 {
				t.Fatalf("accepted entry %q %+v with UIDNEXT %d", k, e, l.next)
			}
		}
	})
}

// FuzzSplitName: file names come from whatever put files in the Maildir.
// Splitting and re-joining must keep the key, and flags must round-trip
// through their letters.
func FuzzSplitName(f *testing.F) {
	for _, s := range []string{"1700000000.M1P2Q3.host,S=9,W=10:2,FRS", "x;2,", "a:2,b;2,S", "plain", ":2,", "k:2,zyxST"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		key, info, ok := SplitName(name)
		if ok && key+name[len(key):len(key)+3]+info != name {
			t.Fatalf("SplitName(%q) = %q, %q: does not re-join", name, key, info)
		}
		if !ok && key != name {
			t.Fatalf("SplitName(%q) changed a name without info", name)
		}
		fl, extra := ParseInfo(info)
		again, extra2 := ParseInfo(infoString(fl, extra))
		if again != fl || extra2 != extra {
			t.Fatalf("flags of %q do not round-trip: %v %q then %v %q", info, fl, extra, again, extra2)
		}
		if strings.ContainsAny(extra, ":;/\\") {
			t.Fatalf("extra letters %q of %q contain a separator", extra, info)
		}
	})
}
