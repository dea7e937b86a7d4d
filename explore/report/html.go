package report

import (
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/note"
	"github.com/mailx-edu/mailx/proto/transcript"
)

// htmlLine is one line of the page, ready for the template.
type htmlLine struct {
	Class string // "c", "s positive", "meta" ...
	Label string // "C:", "S:", "#"
	Text  string
	Notes []htmlNote
}

type htmlNote struct {
	Class   string // "note", "warning", "error"
	Label   string
	Summary string
	Ref     string
	Detail  []string
	Next    string
}

type htmlPage struct {
	Title  string
	Fields [][2]string
	Lines  []htmlLine
	Counts string
}

// WriteHTML writes s as one self-contained HTML page: inline style, no
// script, nothing loaded from elsewhere. The lines keep their colours from
// the terminal (client lines cyan, replies green, blue, yellow or red by
// what they mean, notes dimmed), and the page prints well on paper.
func WriteHTML(w io.Writer, s Session) error {
	page := htmlPage{Title: s.Header.title(), Fields: s.Header.fields()}
	var c, sv int
	for _, e := range s.Events {
		l := htmlLine{Label: strings.TrimSpace(dirLabel(e.Dir)), Text: render.Printable(e.Line)}
		switch e.Dir {
		case transcript.Client:
			l.Class = "c"
			c++
		case transcript.Server:
			tone := e.Tone
			if tone == "" {
				tone = "neutral"
			}
			l.Class = "s " + tone
			sv++
		default:
			l.Class = "meta"
		}
		for _, n := range e.Notes {
			if n.IsZero() {
				continue
			}
			hn := htmlNote{Class: "note", Label: "note", Summary: n.Summary, Ref: n.Ref, Next: n.Next}
			switch n.Severity {
			case note.Warning:
				hn.Class, hn.Label = "warning", "warning"
			case note.Error:
				hn.Class, hn.Label = "error", "error"
			}
			hn.Detail = render.DetailLines(n)
			l.Notes = append(l.Notes, hn)
		}
		page.Lines = append(page.Lines, l)
	}
	page.Counts = plural(c, "line") + " sent, " + plural(sv, "line") + " received"
	return pageTemplate.Execute(w, page)
}

func plural(n int, word string) string {
	s := strconv.Itoa(n) + " " + word
	if n != 1 {
		s += "s"
	}
	return s
}

// The colours are the terminal theme's (explore/render): cyan bold for
// what the client sent, green, blue, yellow and red for replies by tone,
// faint for notes, green for the next step.
var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="mailx">
<title>{{.Title}}</title>
<style>
body { margin: 0; background: #f4f4f4; color: #222; font: 15px/1.4 system-ui, sans-serif; }
header { padding: 1.2em 2em 0.6em; }
h1 { font-size: 1.4em; margin: 0 0 0.4em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.1em 1em; margin: 0; }
dt { font-weight: bold; }
dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
main { margin: 1em 2em 2em; padding: 1em 1.2em; background: #1e1e1e; color: #d4d4d4; border-radius: 6px;
  font: 14px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; overflow-x: auto; }
.line { white-space: pre-wrap; word-break: break-word; padding-left: 3ch; text-indent: -3ch; }
.c { color: #29b8db; font-weight: bold; }
.s.neutral { color: #9a9a9a; }
.s.positive { color: #23d18b; }
.s.intermediate { color: #3b8eea; }
.s.transient { color: #e5e510; }
.s.negative { color: #f14c4c; }
.meta { color: #9a9a9a; font-style: italic; }
.n { white-space: pre-wrap; padding-left: 3ch; display: grid; grid-template-columns: max-content 1fr; column-gap: 1ch; }
.n.note { color: #8a8a8a; }
.n.warning { color: #e5e510; }
.n.error { color: #f14c4c; font-weight: bold; }
.n .detail { display: block; }
.n .next { color: #23d18b; }
.n .ref { opacity: 0.8; }
footer { margin: 0 2em 2em; color: #666; font-size: 0.9em; }
@media print {
  body { background: #fff; }
  main { background: #fff; color: #000; border: 1px solid #999; }
  .c { color: #006b85; } .s.positive, .n .next { color: #0a7a3a; } .s.intermediate { color: #1f5fb0; }
  .s.transient, .n.warning { color: #8a6d00; } .s.negative, .n.error { color: #b00020; }
}
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<dl>{{range .Fields}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl>
</header>
<main id="session">
{{range .Lines}}<div class="line {{.Class}}">{{.Label}} {{.Text}}</div>
{{range .Notes}}<div class="n {{.Class}}"><span class="label">{{.Label}}:</span><span class="text">{{.Summary}}{{if .Ref}}  <span class="ref">[{{.Ref}}]</span>{{end}}{{range .Detail}}<span class="detail">{{.}}</span>{{end}}</span>{{if .Next}}<span class="label next">next:</span><span class="text next">{{.Next}}</span>{{end}}</div>
{{end}}{{end}}</main>
<footer>{{.Counts}}. C: lines were sent by the client (you), S: lines by the server; notes are mailx's explanations. Written by mailx.</footer>
</body>
</html>
`))
