package cmd

import (
	"strings"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/proto/auth"
	"github.com/mailx-edu/mailx/proto/mime"
)

// mimeAuthSection is mime decode's section on sender authentication: what
// the receiving servers recorded in Authentication-Results (RFC 8601),
// explained with proto/auth's notes, and how to redo the checks.
func mimeAuthSection(r *render.Renderer, hdrs []mime.Header, file string) {
	var results, sigs []mime.Header
	for _, h := range hdrs {
		switch strings.ToLower(h.Name) {
		case "authentication-results":
			results = append(results, h)
		case "dkim-signature":
			sigs = append(sigs, h)
		}
	}
	if len(results) == 0 && len(sigs) == 0 {
		return
	}
	r.Blank()
	r.Heading("Sender authentication")
	for _, h := range results {
		id, res, err := auth.ParseResults(h.Raw)
		if err != nil {
			r.Warning("an Authentication-Results field mailx cannot read: " + err.Error())
			continue
		}
		r.Field("checked by", id)
		for _, m := range []string{"spf", "dkim", "dmarc"} {
			if v, ok := res[m]; ok {
				r.Note(auth.Explain(m, v))
			}
		}
	}
	if len(results) == 0 {
		for _, s := range sigs {
			tags, err := auth.ParseTags(s.Raw)
			if err == nil {
				r.Field("DKIM-Signature", "d="+auth.TagValue(tags, "d")+" s="+auth.TagValue(tags, "s")+" a="+auth.TagValue(tags, "a"))
			}
		}
		r.Notef("no Authentication-Results: no receiving server recorded its checks in this copy")
	}
	target := shellQuote(file)
	if file == "" || file == "-" {
		target = "FILE"
	}
	r.Notef("redo every step against DNS, explained: mailx auth explain %s", target)
}
