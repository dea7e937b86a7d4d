package web

import (
	"context"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailx-edu/mailx/server/access"
)

// TestParallelWrongLoginsAreThrottled: the web login checks a password
// under the server's throttle as POP3, IMAP and SMTP AUTH do, so 60 wrong
// logins at once from one browser address get at most 10 password checks
// (issue 21: whatever the parallelism); the rest are refused as blocked.
func TestParallelWrongLoginsAreThrottled(t *testing.T) {
	var checks atomic.Int32
	s, err := New(Config{
		IMAP:       Endpoint{Addr: "127.0.0.1:1"},
		Submission: Endpoint{Addr: "127.0.0.1:1"},
		Authenticate: func(user, pass string) bool {
			checks.Add(1)
			time.Sleep(20 * time.Millisecond) // as long as a bcrypt comparison: the attempts overlap
			return false
		},
		Throttle: &access.Throttle{Delay: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	var wg sync.WaitGroup
	var blocked atomic.Int32
	for range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := httptest.NewRequest("POST", "/login", nil)
			r.RemoteAddr = "203.0.113.7:40000"
			_, err := s.login(context.Background(), r, "alice", "wrong", false)
			if _, ok := err.(*BlockedError); ok {
				blocked.Add(1)
			} else if err != errLogin {
				t.Errorf("login: %v", err)
			}
		}()
	}
	wg.Wait()
	if n := checks.Load(); n > 10 || n == 0 {
		t.Errorf("%d password checks for 60 parallel wrong logins, want 1 to 10", n)
	}
	if blocked.Load() < 50 {
		t.Errorf("only %d of 60 logins were refused as blocked", blocked.Load())
	}
}
