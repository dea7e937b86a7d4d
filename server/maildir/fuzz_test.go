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
	f.Add([]byte("mailx-uidlist 1 V7 N3 R515\n1 10 9 0 a\n2 10 9 0 b,U=2\n"))
	f.Add([]byte("mailx-uidlist 1 V7 N3 R\n"))
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

// FuzzDovecotFiles: dovecot-uidlist and dovecot-keywords come from
// whatever Dovecot (or anyone) left in the folder. Accepted entries must be
// usable; keyword names must be atoms, at most 26.
func FuzzDovecotFiles(f *testing.F) {
	f.Add([]byte("3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1\n25020 W1267 :1275660208.M1P2.host,S=1234,W=1267:2,S\n25021 :k2\n"))
	f.Add([]byte("1 1275660208 3\n1 1275660208.M1P2.host\n2 k2:2,FS\n"))
	f.Add([]byte("0 $Junk\n1 $NonJunk\n25 last\n26 toomany\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if l, err := parseDovecotUIDList(data); err == nil {
			for k, e := range l.entries {
				if !validFileName(k) || e.uid == 0 || e.uid >= l.next || e.size != -1 {
					t.Fatalf("accepted entry %q %+v with UIDNEXT %d", k, e, l.next)
				}
			}
		}
		kw := parseKeywords(data)
		if len(kw) > MaxKeywords {
			t.Fatalf("%d keywords", len(kw))
		}
		for _, k := range kw {
			if k != "" && !validKeyword(k) {
				t.Fatalf("keyword %q accepted", k)
			}
		}
		for _, op := range []Op{Add, Remove, Replace} {
			x := combineExtra(string(data), op, "abz")
			if strings.ContainsAny(x, ":;/\\\x00") && !strings.ContainsAny(string(data), ":;/\\\x00") {
				t.Fatalf("combineExtra added a separator: %q", x)
			}
		}
	})
}
