package cmd

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/server/accounts"
	"github.com/mailx-edu/mailx/server/servertest"
)

func TestWebFlags(t *testing.T) {
	ios, _, _ := TestIO("")
	var got *webOptions
	c := newWebCmd(ios, func(ctx context.Context, o *webOptions) error { got = o; return nil })
	c.SetArgs([]string{"--imap", "127.0.0.1:1431", "--smtp", "127.0.0.1:2588", "--listen", "127.0.0.1:8081", "--domain", "hamburger.test", "--no-bridge"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.IMAP != "127.0.0.1:1431" || got.SMTP != "127.0.0.1:2588" || got.Listen != "127.0.0.1:8081" || got.Domain != "hamburger.test" || !got.NoBridge || got.IMAPTLS != "auto" {
		t.Errorf("options %+v", got)
	}
	c = newWebCmd(ios, func(ctx context.Context, o *webOptions) error { got = o; return nil })
	c.SetArgs(nil)
	c.Execute()
	if got.Listen != "127.0.0.1:8080" || got.IMAP != "127.0.0.1:1430" || got.SMTP != "127.0.0.1:2587" {
		t.Errorf("defaults %+v", got)
	}
}

func TestWebBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"web", "--listen", "0.0.0.0:8080"}, "--public"},
		{[]string{"web", "--imap", "localhost"}, "not HOST:PORT"},
		{[]string{"web", "--smtp-tls", "maybe"}, "not a security mode"},
		{[]string{"web", "--ca", "/nonexistent/ca.pem", "--listen", "127.0.0.1:0"}, "--ca"},
	} {
		ios, _, errOut := TestIO("")
		if code := run(context.Background(), tc.args, ios); code != ExitUsage || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, errOut)
		}
	}
}

// TestWebRuns starts mailx web against an in-process server, logs in over
// HTTP and finds the session's transcript file.
func TestWebRuns(t *testing.T) {
	m := servertest.Start(t, servertest.Options{Services: []string{servertest.SMTP, servertest.Submission, servertest.IMAP},
		Users: []accounts.Credential{{Name: "alice", Password: "hungry"}}})
	dir := filepath.Join(t.TempDir(), "transcripts")
	ios, out, _ := TestIO("")
	ready := make(chan string, 1)
	opts := &webOptions{IO: ios, Listen: "127.0.0.1:0", IMAP: m.Addr("imap"), SMTP: m.Addr("submission"), IMAPTLS: "auto", SMTPTLS: "auto",
		Domain: "mailx.test", Transcripts: dir, Trace: true, ready: func(a string) { ready <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runWeb(ctx, opts) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("runWeb ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("mailx web did not start")
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/folders", nil)
	req.SetBasicAuth("alice", "hungry")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"INBOX"`) {
		t.Fatalf("folders: %d %s", resp.StatusCode, b)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "] C: T1 LOGIN alice ********") || !strings.Contains(out.String(), "note: Logs in") || strings.Contains(out.String(), "alice hungry") || strings.Contains(out.String(), "AGFsaWNlAGh1bmdyeQ") {
		t.Errorf("--trace output:\n%s", out)
	}
	if !strings.Contains(out.String(), "http://"+addr) {
		t.Errorf("banner lacks the URL:\n%s", out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	if len(files) != 1 {
		t.Fatalf("transcripts: %v", files)
	}
	tr, _ := os.ReadFile(files[0])
	if !strings.Contains(string(tr), "C: T2 LIST \"\" \"*\"") || !strings.Contains(string(tr), "# http GET /api/v1/folders -> 200") || strings.Contains(string(tr), "hungry") {
		t.Errorf("transcript:\n%s", tr)
	}
}
