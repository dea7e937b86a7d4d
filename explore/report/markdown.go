package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/note"
)

// WriteMarkdown writes s as Markdown: the header as a list, the raw lines
// exactly as on screen ("C: ...", "S: ...") in one fenced block that is
// safe to paste into a report, then the notes as a list, each naming the
// line (by number in the block) it explains.
func WriteMarkdown(w io.Writer, s Session) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# %s\n\n", mdEscape(s.Header.title()))
	for _, f := range s.Header.fields() {
		fmt.Fprintf(bw, "- **%s:** %s\n", f[0], mdCode(f[1]))
	}
	lines := make([]string, len(s.Events))
	for i, e := range s.Events {
		lines[i] = dirLabel(e.Dir) + render.Printable(e.Line)
	}
	fence := mdFence(lines)
	fmt.Fprintf(bw, "\n## Session\n\n%stext\n", fence)
	for _, l := range lines {
		fmt.Fprintln(bw, l)
	}
	fmt.Fprintf(bw, "%s\n", fence)
	wrote := false
	for i, e := range s.Events {
		for _, n := range e.Notes {
			if n.IsZero() {
				continue
			}
			if !wrote {
				fmt.Fprint(bw, "\n## Notes\n\n")
				wrote = true
			}
			label := "note"
			switch n.Severity {
			case note.Warning:
				label = "**warning**"
			case note.Error:
				label = "**error**"
			}
			fmt.Fprintf(bw, "- line %d, %s: %s", i+1, mdCode(clipLine(lines[i])), label)
			fmt.Fprintf(bw, " %s", mdEscape(n.Summary))
			if n.Ref != "" {
				fmt.Fprintf(bw, " (%s)", mdEscape(n.Ref))
			}
			fmt.Fprintln(bw)
			if n.Detail != "" {
				for _, d := range strings.Split(strings.TrimRight(n.Detail, "\n"), "\n") {
					fmt.Fprintf(bw, "  %s\n", mdEscape(d))
				}
			}
			if n.Next != "" {
				fmt.Fprintf(bw, "  - next: %s\n", mdEscape(n.Next))
			}
		}
	}
	fmt.Fprint(bw, "\n---\n*Written by mailx. C: lines were sent by the client, S: lines by the server.*\n")
	return bw.Flush()
}

// mdFence returns a code fence longer than any run of backticks in the
// lines, so that a line holding ``` cannot end the block early.
func mdFence(lines []string) string {
	longest := 0
	for _, l := range lines {
		run := 0
		for _, c := range l {
			if c == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// mdCode puts s in an inline code span that its own backticks cannot end.
func mdCode(s string) string {
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	tick := strings.Repeat("`", longest+1)
	if longest > 0 || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return tick + " " + s + " " + tick
	}
	return tick + s + tick
}

// mdEscape keeps Markdown from reading note text as markup: emphasis,
// links, HTML tags and headings.
func mdEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune("\\`*_[]<>#|", c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func clipLine(s string) string {
	rs := []rune(s)
	if len(rs) > 60 {
		return string(rs[:57]) + "..."
	}
	return s
}
