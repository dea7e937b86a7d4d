package accounts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func init() { HashCost = bcrypt.MinCost }

func testDir(t *testing.T) *Directory {
	t.Helper()
	users := map[string][]byte{}
	for _, c := range Practice {
		h, err := Hash(c.Password)
		if err != nil {
			t.Fatal(err)
		}
		users[c.Name] = h
	}
	d, err := New(Config{Domains: []string{"mailx.test", "Bücher.test"}, Users: users, Aliases: map[string]string{"info": "bob"}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestResolve(t *testing.T) {
	d := testDir(t)
	tests := []struct {
		addr, user string
		ok         bool
	}{
		{"alice@mailx.test", "alice", true},
		{"ALICE@MAILX.TEST", "alice", true},
		{`"alice"@mailx.test`, "alice", true},
		{"bob+lists@mailx.test", "bob", true},
		{"bob@xn--bcher-kva.test", "bob", true},
		{"bob@bücher.test", "bob", true},
		{"info@mailx.test", "bob", true},
		{"info+x@mailx.test", "bob", true},
		{"postmaster@mailx.test", "alice", true},
		{"Abuse@mailx.test", "alice", true},
		{`"a@b"@mailx.test`, "", false},
		{`"bob@example.com"@mailx.test`, "", false},
		{"a%b@mailx.test", "", false},
		{"bob%example.com@mailx.test", "", false},
		{"bob@example.com", "", false},
		{"carol@mailx.test", "", false},
		{"+x@mailx.test", "", false},
		{"bob", "", false},
	}
	for _, tc := range tests {
		u, ok := d.Resolve(tc.addr)
		if u != tc.user || ok != tc.ok {
			t.Errorf("Resolve(%q) = %q, %v; want %q, %v", tc.addr, u, ok, tc.user, tc.ok)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	d := testDir(t)
	for _, tc := range []struct {
		user, pass string
		want       bool
	}{
		{"alice", "hungry", true},
		{"Alice", "hungry", true},
		{"alice@mailx.test", "hungry", true},
		{"alice", "Hungry", false},
		{"bob", "hungry", false},
		{"carol", "hungry", false},
		{"alice@example.com", "hungry", false},
		{"", "", false},
	} {
		if got := d.Authenticate(tc.user, tc.pass); got != tc.want {
			t.Errorf("Authenticate(%q, %q) = %v, want %v", tc.user, tc.pass, got, tc.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New with no domain succeeded")
	}
	if _, err := New(Config{Domains: []string{"a..b"}}); err == nil {
		t.Error("New with bad domain succeeded")
	}
	if _, err := New(Config{Domains: []string{"a.test"}, Aliases: map[string]string{"x": "nobody"}}); err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Errorf("New with alias to unknown user: %v", err)
	}
}

func TestFileRoundTripAndReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "accounts")
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set("carol", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	d, err := New(Config{Domains: []string{"mailx.test"}, Users: f.Hashes(), File: path})
	if err != nil {
		t.Fatal(err)
	}
	if !d.Authenticate("carol", "s3cret") {
		t.Fatal("carol cannot log in")
	}
	f, _ = Load(path)
	f.Set("dave", "pw")
	f.Save()
	// The directory re-reads at most once a second; force the check.
	d.mu.Lock()
	d.checkedAt = d.checkedAt.Add(-2e9)
	d.modTime = d.modTime.Add(-1)
	d.mu.Unlock()
	if !d.Authenticate("dave", "pw") {
		t.Error("dave added to the file is not seen by the running directory")
	}
	if got := d.Users(); strings.Join(got, ",") != "carol,dave" {
		t.Errorf("Users() = %v", got)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ body, want string }{
		{"alice\n", ":1: expected NAME:HASH"},
		{"# c\nalice:plain\n", ":2: the password of alice is not a bcrypt hash"},
		{"../x:$2a$x\n", ":1: user name"},
	} {
		p := filepath.Join(dir, "acc")
		os.WriteFile(p, []byte(tc.body), 0o600)
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%q) = %v, want error containing %q", tc.body, err, tc.want)
		}
	}
}

func TestParseCredential(t *testing.T) {
	c, err := ParseCredential("Carol:pass:word")
	if err != nil || c.Name != "carol" || c.Password != "pass:word" {
		t.Errorf("ParseCredential = %+v, %v", c, err)
	}
	for _, bad := range []string{"carol", "carol:", ":pw", "../x:pw", "a/b:pw"} {
		if _, err := ParseCredential(bad); err == nil {
			t.Errorf("ParseCredential(%q) succeeded", bad)
		}
	}
}
