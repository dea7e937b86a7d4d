package note

import "testing"

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int
		args []string
		want string
	}{
		{1, []string{"line"}, "1 line"},
		{0, []string{"line"}, "0 lines"},
		{7, []string{"message"}, "7 messages"},
		{2, []string{"reply", "replies"}, "2 replies"},
		{1, []string{"reply", "replies"}, "1 reply"},
	} {
		if got := Count(c.n, c.args[0], c.args[1:]...); got != c.want {
			t.Errorf("Count(%d, %q) = %q, want %q", c.n, c.args, got, c.want)
		}
	}
}
