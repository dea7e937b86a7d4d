package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/mailx-edu/mailx/proto/dnsbl"
	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/control"
	"github.com/mailx-edu/mailx/server/labdns"
)

// CallBlocklist is the control call that manages the lab's blocklist zone:
// args BlocklistArgs, result BlocklistResult.
const CallBlocklist = "serve.blocklist"

// BlocklistArgs asks to add, delete or list ("add", "del", "list").
type BlocklistArgs struct {
	Op     string `json:"op"`
	Addr   string `json:"addr,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// BlocklistResult is the zone's content after the call.
type BlocklistResult struct {
	Zone    string         `json:"zone"`
	Changed bool           `json:"changed"`
	Query   string         `json:"query,omitempty"` // the name that lists Addr
	Entries []labdns.Entry `json:"entries"`
}

// blocklistCall answers CallBlocklist: it lists, adds or deletes an
// address in the lab DNS's blocklist zone (mailx serve blocklist).
func (m *MTA) blocklistCall(_ context.Context, raw json.RawMessage) (any, error) {
	var a BlocklistArgs
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, control.BadRequest("arguments: %v", err)
	}
	dns := m.cfg.Spam.LabDNS
	if dns == nil {
		return nil, control.NotFound("this server has no lab DNS, so no blocklist zone to manage: start the lab with mailx serve --lab")
	}
	res := BlocklistResult{Zone: LabBlocklist}
	var addr netip.Addr
	if a.Op == "add" || a.Op == "del" {
		var err error
		addr, err = netip.ParseAddr(strings.TrimSpace(a.Addr))
		if err != nil {
			return nil, control.BadRequest("%q is not an IP address", a.Addr)
		}
		res.Query = dnsbl.QueryName(addr, LabBlocklist)
	}
	switch a.Op {
	case "add":
		if err := dns.List(LabBlocklist, addr, a.Reason); err != nil {
			return nil, control.BadRequest("%v", err)
		}
		res.Changed = true
	case "del":
		res.Changed = dns.Unlist(LabBlocklist, addr)
	case "list", "":
	default:
		return nil, control.BadRequest("unknown operation %q: add, del or list", a.Op)
	}
	if res.Changed {
		if err := saveBlocklist(dns, m.cfg.Spam.LabBLFile); err != nil {
			m.log.Warn("lab blocklist not saved", "err", err)
		}
		m.trace.hook(transcript.Event{Time: time.Now(), Session: "control", Proto: "dns", Dir: transcript.Meta,
			Line: fmt.Sprintf("blocklist %s: %s %s", LabBlocklist, a.Op, addr)})
	}
	res.Entries = dns.Listed(LabBlocklist)
	return res, nil
}

// EditBlocklistFile applies a blocklist operation to the file a lab keeps
// its list in (DATA/blocklist.json), for when the lab is not running: the
// next start publishes it.
func EditBlocklistFile(labData string, a BlocklistArgs) (BlocklistResult, error) {
	path := filepath.Join(labData, "blocklist.json")
	// A lab DNS that is never started holds the list while it is edited.
	tmp := new(labdns.Server)
	if err := tmp.SetZones([]labdns.Zone{{Domain: LabBlocklist, Blocklist: true}}); err != nil {
		return BlocklistResult{}, err
	}
	if err := loadBlocklist(tmp, path); err != nil {
		return BlocklistResult{}, err
	}
	res := BlocklistResult{Zone: LabBlocklist}
	if a.Op == "add" || a.Op == "del" {
		addr, err := netip.ParseAddr(strings.TrimSpace(a.Addr))
		if err != nil {
			return res, fmt.Errorf("%q is not an IP address", a.Addr)
		}
		res.Query = dnsbl.QueryName(addr, LabBlocklist)
		if a.Op == "add" {
			if err := tmp.List(LabBlocklist, addr, a.Reason); err != nil {
				return res, err
			}
			res.Changed = true
		} else {
			res.Changed = tmp.Unlist(LabBlocklist, addr)
		}
		if res.Changed {
			if err := saveBlocklist(tmp, path); err != nil {
				return res, err
			}
		}
	}
	res.Entries = tmp.Listed(LabBlocklist)
	return res, nil
}
