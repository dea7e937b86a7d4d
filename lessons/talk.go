package lessons

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/mailx-edu/mailx/explore"
	"github.com/mailx-edu/mailx/explore/render"
)

// explorerTalker drives a real explore.Session one line at a time, so the
// student sees exactly what `mailx smtp talk` shows.
type explorerTalker struct {
	s    *explore.Session
	last *explore.Exchange
}

// protocols builds the explorer's protocol description for a talk step.
// "submission" is SMTP on the submission port.
var protocols = map[string]func() explore.Protocol{
	"smtp":       func() explore.Protocol { return explore.NewSMTP() },
	"submission": func() explore.Protocol { return explore.NewSMTP() },
	"pop3":       func() explore.Protocol { return explore.NewPOP3() },
	"imap":       func() explore.Protocol { return explore.NewIMAP() },
}

// ExplorerDialer opens real explorer sessions to lab servers. The lab's
// certificate is self-signed, so verification is skipped (and reported by
// the explorer when the student upgrades with STARTTLS).
func ExplorerDialer(ctx context.Context, t Talk, addr string, out *render.Renderer) (Talker, error) {
	newProto, ok := protocols[t.Protocol]
	if !ok {
		return nil, fmt.Errorf("this mailx cannot talk %s yet", t.Protocol)
	}
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("bad port in %q", addr)
	}
	conn, err := explore.Dial(ctx, host, port, explore.DialOptions{Timeout: 10 * time.Second, Insecure: true})
	if err != nil {
		return nil, err
	}
	et := &explorerTalker{}
	out.Heading(fmt.Sprintf("Connected to %s (%s)", addr, t.Protocol))
	et.s = explore.NewSession(conn, explore.Options{
		Protocol:        newProto(),
		Render:          out,
		ResponseTimeout: 30 * time.Second,
		OnExchange:      func(x explore.Exchange) { et.last = &x },
	})
	if err := et.s.Open(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return et, nil
}

func (et *explorerTalker) Send(ctx context.Context, typed string) (*Exchange, error) {
	et.last = nil
	err := et.s.Line(ctx, typed)
	if et.last == nil || et.last.Response == nil {
		return nil, err
	}
	x := &Exchange{Typed: typed, Sent: et.last.Sent, Status: et.last.Response.Status, Response: et.last.Response.Raw(), Time: time.Now()}
	return x, err
}

func (et *explorerTalker) Prompt() string { return et.s.Protocol().Prompt() }
func (et *explorerTalker) Ended() bool    { return et.s.Ended() }
func (et *explorerTalker) Drop() error {
	if c := et.s.Conn(); c != nil {
		return c.Close()
	}
	return nil
}

func (et *explorerTalker) Close() error {
	if !et.s.Ended() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		et.s.Line(ctx, et.s.Protocol().Quit())
		cancel()
	}
	return et.Drop()
}
