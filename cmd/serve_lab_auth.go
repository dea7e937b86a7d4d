package cmd

import (
	"fmt"
	"strings"

	"github.com/mailx-edu/mailx/explore/render"
	"github.com/mailx-edu/mailx/server"
)

// labAuthField shows a lab domain's sender-authentication setup in the
// banner: its address and the records the lab DNS publishes for it.
func labAuthField(r *render.Renderer, lab *server.Lab, domain string) {
	for i, d := range lab.Domains {
		if !strings.EqualFold(d.Domain, domain) {
			continue
		}
		var sels []string
		for _, k := range lab.MTAs[i].DKIMKeys() {
			sels = append(sels, k.Selector)
		}
		r.Field("sender auth", fmt.Sprintf("address %s; SPF %q, DKIM selectors %s, DMARC p=quarantine", server.LabAddr(i), server.LabSPF, strings.Join(sels, " and ")))
	}
}

// labBlocklistField shows the lab's blocklist zone in the banner.
func labBlocklistField(r *render.Renderer) {
	r.Field("blocklist", server.LabBlocklist+" (RFC 5782): mailx serve blocklist add ADDRESS; mailx dnsbl check ADDRESS; the lab's servers refuse listed clients")
}
