package smtp

import (
	"slices"
	"strings"
	"testing"
)

// TestHelpVerbsMatchHandlers: HELP lists every command the server has a
// handler for, except XCLIENT, which only trusted clients may use and EHLO
// announces to them; the list is written out, so this keeps it true.
func TestHelpVerbsMatchHandlers(t *testing.T) {
	var want []string
	for v := range handlers {
		if v != "XCLIENT" {
			want = append(want, v)
		}
	}
	slices.Sort(want)
	if got := strings.Fields(helpVerbs); !slices.Equal(got, want) {
		t.Errorf("helpVerbs = %q, want %q", got, want)
	}
	if _, ok := handlers["XCLIENT"]; !ok {
		t.Error("no handler for XCLIENT")
	}
}
