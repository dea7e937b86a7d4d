package cmd

import (
	"context"
	"net/netip"
	"strings"

	"github.com/mailx-edu/mailx/explore"
)

// --as ADDRESS: play a client at another address, with Postfix's XCLIENT.
// On one machine every connection to the lab comes from 127.0.0.1; a
// student who plays a spammer (203.0.113.66) needs the server to see that
// address for SPF, the blocklists and Received:, and XCLIENT is the
// extension servers offer trusted clients for exactly that kind of test
// (Postfix XCLIENT_README; swaks --xclient-addr sends it too).

// parseAs checks --as.
func parseAs(v string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.Trim(v, "[]"))
	if err != nil {
		return netip.Addr{}, usageError("Give an IP address, such as 203.0.113.66 (the lab's spammer).", "--as %q is not an IP address", v)
	}
	return a.Unmap(), nil
}

// xclientPrelude greets the server, announces addr with XCLIENT and greets
// again, explaining each step, before the student types.
func xclientPrelude(addr netip.Addr, helo string) func(context.Context, *explore.Session) error {
	return func(ctx context.Context, s *explore.Session) error {
		if s.Greeting() == nil {
			if _, err := s.Start(ctx); err != nil {
				return err
			}
		}
		if err := endedBadly(s); err != nil || s.Ended() {
			return err
		}
		r := s.Render()
		r.Notef("--as %s: every connection on this machine comes from 127.0.0.1, so mailx first asks the server, with Postfix's XCLIENT command, to treat this session as coming from %s. SPF, DNS blocklists and the Received: field then see that address. Servers allow XCLIENT only from loopback or networks they trust (mailx serve --trusted-net).", addr, addr)
		resp, err := s.Exchange(ctx, "EHLO "+helo)
		if err != nil {
			return err
		}
		offered := false
		for _, l := range resp.Lines {
			if f := strings.Fields(strings.TrimLeft(l.Text[min(4, len(l.Text)):], " ")); len(f) > 0 && strings.EqualFold(f[0], "XCLIENT") {
				offered = true
			}
		}
		if !offered {
			r.Warning("this server does not offer XCLIENT (not in its EHLO reply), so --as cannot work here: the session goes on from your real address")
			return nil
		}
		resp, err = s.Exchange(ctx, "XCLIENT ADDR="+addr.String()+" NAME=[UNAVAILABLE]")
		if err != nil {
			return err
		}
		if resp.Status != "220" {
			r.Warning("the server refused XCLIENT (see its reply): the session goes on from your real address")
			return nil
		}
		r.Notef("the server now counts this session as coming from %s; after XCLIENT the session starts over, so greet it again", addr)
		_, err = s.Exchange(ctx, "EHLO "+helo)
		return err
	}
}
