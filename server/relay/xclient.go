package relay

import (
	"net/netip"

	"github.com/mailx-edu/mailx/proto/transcript"
	"github.com/mailx-edu/mailx/server/queue"
)

// xclientID says what a lab relay client announces with XCLIENT, asked
// anew for each session (a teaching scenario can change it).
type xclientID func() (addr netip.Addr, name string)

// SetXClient makes the client announce addr and name with Postfix's XCLIENT
// to servers that offer it, before the mail transaction. The lab uses it:
// all its MTAs talk over loopback, and XCLIENT tells the receiving one the
// sending domain's lab address, for SPF, blocklists and Received:. Call it
// before the client delivers anything.
func (c *Client) SetXClient(id func() (addr netip.Addr, name string)) {
	c.xc = id
}

// announce sends XCLIENT when configured and offered, then EHLO again, as
// the session starts over (Postfix XCLIENT_README). A server that refuses
// XCLIENT gets the transaction anyway, from the real address.
func (c *Client) announce(cv *conv, host string, ext map[string][]string, lost func(string, error) queue.Result) (map[string][]string, queue.Result, bool) {
	if c.xc == nil {
		return ext, queue.Result{}, true
	}
	addr, name := c.xc()
	if !addr.IsValid() {
		return ext, queue.Result{}, true
	}
	if _, offered := ext["XCLIENT"]; !offered {
		return ext, queue.Result{}, true
	}
	line := "XCLIENT ADDR=" + addr.String()
	if name != "" {
		line += " NAME=" + name
	}
	cv.tr(transcript.Meta, "the lab: announcing the address "+addr.String()+" with XCLIENT, since every lab server talks over 127.0.0.1")
	r, err := cv.cmd(line, c.to.Command)
	if err != nil {
		return nil, lost("after XCLIENT", err), false
	}
	if r.Code != 220 {
		cv.tr(transcript.Meta, "XCLIENT refused: continuing from the real address")
		return ext, queue.Result{}, true
	}
	return c.hello(cv, host, lost)
}
