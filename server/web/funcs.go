package web

import (
	"fmt"
	"html/template"
	"time"
)

var funcs = template.FuncMap{
	"folderURL":  folderURL,
	"messageURL": messageURL,
	"shortDate":  envelopeDate,
	"add":        func(a, b int) int { return a + b },
	"tabs":       func() []string { return tabs },
	"tabName": func(t string) string {
		return map[string]string{"rendered": "Rendered", "text": "Plain text", "headers": "Headers", "raw": "Raw source", "tree": "MIME tree"}[t]
	},
	"hasFlag": func(flags []string, f string) bool { return contains(flags, f) },
	"size":    size,
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

var _ = time.Now
