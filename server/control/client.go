package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrNotRunning means no server runs on the data directory: there is no
// control.json, or nothing answers at its address (a server that was
// killed leaves the file behind).
var ErrNotRunning = errors.New("no mailx server is running on this data directory")

// Client calls a running server's control endpoint.
type Client struct {
	info Info
	http *http.Client
}

// Dial reads dataDir/control.json and checks that the server answers.
func Dial(ctx context.Context, dataDir string) (*Client, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, FileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotRunning
	}
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	var info Info
	if err := json.Unmarshal(b, &info); err != nil || info.Addr == "" || info.Token == "" {
		return nil, fmt.Errorf("control: %s is damaged; if no server runs, delete it", filepath.Join(dataDir, FileName))
	}
	c := &Client{info: info, http: &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 3 * time.Second}).DialContext},
	}}
	d := net.Dialer{Timeout: 3 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", info.Addr)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) || isRefused(err) {
			return nil, ErrNotRunning
		}
		return nil, fmt.Errorf("control: cannot reach the server at %s: %w", info.Addr, err)
	}
	conn.Close()
	return c, nil
}

// isRefused reports a refused connection on platforms where the error does
// not unwrap to ECONNREFUSED.
func isRefused(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "dial" && !oe.Timeout()
}

// Info returns what control.json said.
func (c *Client) Info() Info { return c.info }

// Call invokes name with args (encoded as JSON; nil sends {}) and decodes the
// result into result (nil ignores it). A failure the server reported is an
// *Error.
func (c *Client) Call(ctx context.Context, name string, args, result any) error {
	if args == nil {
		args = struct{}{}
	}
	body, err := json.Marshal(args)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+c.info.Addr+"/v1/"+name, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.info.Token)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("control: %s: %w", name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("control: %s: %w", name, err)
	}
	if resp.StatusCode != http.StatusOK {
		ce := &Error{Status: resp.StatusCode}
		if json.Unmarshal(data, ce) != nil || ce.Message == "" {
			ce.Message = fmt.Sprintf("the server answered %s", resp.Status)
		}
		return ce
	}
	if result == nil {
		return nil
	}
	if err := json.Unmarshal(data, result); err != nil {
		return fmt.Errorf("control: %s: bad answer: %w", name, err)
	}
	return nil
}
