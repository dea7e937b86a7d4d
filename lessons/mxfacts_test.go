package lessons

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseMXOutput(t *testing.T) {
	plain, err := os.ReadFile(filepath.Join("..", "cmd", "testdata", "mx", "multi.golden"))
	if err != nil {
		t.Fatal(err)
	}
	implicit, err := os.ReadFile(filepath.Join("..", "cmd", "testdata", "mx", "implicit.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, out string
		want      []string
		not       []string
	}{
		{"plain", string(plain), []string{"10 mx1.multi.test", "10 mx2.multi.test", "20 backup.multi.test"}, []string{"10 backup.multi.test"}},
		{"plain implicit", string(implicit), []string{"0 implicit.test"}, nil},
		{"short", "10 mx1.school.test.\n20 backup.school.test.\n", []string{"10 mx1.school.test", "20 backup.school.test"}, []string{"20 mx1.school.test"}},
		{"short implicit", "0 garage.test.\n", []string{"0 garage.test"}, nil},
		{"json", `{"records":[{"preference":10,"exchange":"mx.hamburger.test."}],"exchangers":[{"preference":10,"host":"mx.hamburger.test"}]}`, []string{"10 mx.hamburger.test"}, nil},
		{"json implicit", `{"records":[],"exchangers":[{"preference":0,"host":"garage.test","implicit":true}]}`, []string{"0 garage.test"}, nil},
		{"colour", "\x1b[1m10 MX1.School.Test.\x1b[0m\n", []string{"10 mx1.school.test"}, nil},
		{"nothing", "mailx: cannot reach the DNS server\n", nil, []string{"10 mx.hamburger.test"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseMXOutput(tc.out)
			for _, w := range tc.want {
				f, _ := ParseMXFact(w)
				if !hasMX(got, f) {
					t.Errorf("ParseMXOutput(%s) = %v, lacks %s", tc.name, got, f)
				}
			}
			for _, w := range tc.not {
				f, _ := ParseMXFact(w)
				if hasMX(got, f) {
					t.Errorf("ParseMXOutput(%s) = %v, has %s", tc.name, got, f)
				}
			}
		})
	}
}

// FuzzParseMXOutput: the output a student's command printed is untrusted
// text; reading facts from it must never panic and every fact must be well
// formed.
func FuzzParseMXOutput(f *testing.F) {
	for _, name := range []string{"multi", "implicit", "null", "alias", "idn"} {
		if data, err := os.ReadFile(filepath.Join("..", "cmd", "testdata", "mx", name+".golden")); err == nil {
			f.Add(string(data))
		}
	}
	f.Add("10 mx1.school.test.\n20 backup.school.test.\n")
	f.Add(`{"records":[{"preference":10,"exchange":"mx.hamburger.test."}]}`)
	f.Add(`{"exchangers":[{"preference":-1,"host":""}]}`)
	f.Fuzz(func(t *testing.T, out string) {
		for _, fact := range ParseMXOutput(out) {
			if fact.Host == "" {
				t.Fatalf("empty host from %q", out)
			}
		}
	})
}
