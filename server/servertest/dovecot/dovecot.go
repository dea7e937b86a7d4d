//go:build unix

// Package dovecot starts a throwaway Dovecot, the reference POP3 and IMAP
// server mailx's tests compare with (Debian packages dovecot-imapd and
// dovecot-pop3d), on free loopback ports with everything it writes under
// the test's temporary directories.
//
// It is imported only by _test.go files and imports nothing from mailx but
// proto/testkit, so the internal tests of server/imap may use it as well as
// cmd's (server/servertest imports server, which they cannot).
package dovecot

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mailx-edu/mailx/proto/testkit"
)

// Options says what to serve.
type Options struct {
	// Maildir is the one user's Maildir (alice, password hungry). "" means a
	// new empty one under a temporary directory; cur/, new/ and tmp/ are
	// created when missing. As root, Dovecot reads it as nobody, so the
	// directory is given to nobody and its parents under the temporary
	// directory are opened to others.
	Maildir string
	// POP3 also serves POP3 (IMAP is always served).
	POP3 bool
}

// Dovecot is a running instance.
type Dovecot struct {
	IMAP    string // 127.0.0.1:PORT
	POP3    string // 127.0.0.1:PORT, or "" without Options.POP3
	Maildir string // alice's Maildir
	Log     string // Dovecot's log file

	stop func()
}

// Stop stops Dovecot (SIGTERM, then SIGKILL after 10 s) and waits for it to
// exit; Start also registers it with t.Cleanup, and a second call does
// nothing.
func (d *Dovecot) Stop() { d.stop() }

// Start starts Dovecot as `dovecot -F -c CONF`, waits until its ports
// accept connections, and stops it in t.Cleanup. It skips the test when
// Dovecot is not installed, naming the Debian packages.
func Start(t testkit.TB, o Options) *Dovecot {
	t.Helper()
	bin := "/usr/sbin/dovecot" // not on a normal user's PATH
	if _, err := os.Stat(bin); err != nil {
		pkg := "dovecot-imapd"
		if o.POP3 {
			pkg += " dovecot-pop3d"
		}
		bin = testkit.NeedCommand(t, "dovecot", pkg)
	}
	dir, err := os.MkdirTemp("", "mailx-dovecot-")
	if err != nil {
		t.Fatalf("dovecot: %v", err)
		return nil
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d := &Dovecot{Maildir: o.Maildir, Log: filepath.Join(dir, "dovecot.log"), IMAP: testkit.FreeAddr(t)}
	if d.Maildir == "" {
		d.Maildir = filepath.Join(dir, "alice", "Maildir")
	}
	if o.POP3 {
		d.POP3 = testkit.FreeAddr(t)
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(d.Maildir, sub), 0o755); err != nil {
			t.Fatalf("dovecot: %v", err)
			return nil
		}
	}

	// Dovecot will not run mail processes as root: as root, mail belongs to
	// nobody and Dovecot's own users run the login and internal processes;
	// as anyone else, everything runs as that user.
	uid, gid := os.Getuid(), os.Getgid()
	var internal, login string
	if uid == 0 {
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Skipf("running as root needs the user nobody for Dovecot's mail processes")
			return nil
		}
		uid, _ = strconv.Atoi(nobody.Uid)
		gid, _ = strconv.Atoi(nobody.Gid)
		internal, login = "dovecot", "dovenull"
		openToOthers(d.Maildir)
		openToOthers(dir)
		filepath.Walk(d.Maildir, func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, uid, gid) })
	} else {
		me, err := user.Current()
		if err != nil {
			t.Skipf("cannot tell the current user for Dovecot's settings")
			return nil
		}
		internal, login = me.Username, me.Username
	}
	passwd := filepath.Join(dir, "passwd")
	conf := filepath.Join(dir, "dovecot.conf")
	protocols := "imap"
	listeners := listener("imap", d.IMAP)
	if o.POP3 {
		protocols += " pop3"
		listeners += listener("pop3", d.POP3)
	}
	for path, text := range map[string]string{
		passwd: fmt.Sprintf("alice:{PLAIN}hungry:%d:%d::%s\n", uid, gid, d.Maildir),
		conf: fmt.Sprintf(`protocols = %[6]s
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[2]s
info_log_path = %[2]s
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = %[3]s
default_login_user = %[4]s
first_valid_uid = 1
mail_location = maildir:~
passdb {
  driver = passwd-file
  args = %[5]s
}
userdb {
  driver = passwd-file
  args = %[5]s
}
%[7]s`, dir, d.Log, internal, login, passwd, protocols, listeners),
	} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatalf("dovecot: %v", err)
			return nil
		}
	}
	os.MkdirAll(filepath.Join(dir, "state"), 0o755)

	cmd := exec.Command(bin, "-F", "-c", conf)
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatalf("dovecot: %v", err)
		return nil
	}
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dovecot: %v", err)
		return nil
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stopped := false
	d.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	t.Cleanup(d.Stop)
	// Dovecot has no readiness signal: wait until its ports accept.
	logText := func() string {
		early, _ := os.ReadFile(stderr.Name())
		log, _ := os.ReadFile(d.Log)
		return string(early) + string(log)
	}
	for _, addr := range []string{d.IMAP, d.POP3} {
		if addr != "" {
			testkit.WaitListening(t, addr, 30*time.Second, exited, logText)
		}
	}
	return d
}

func listener(service, addr string) string {
	_, port, _ := strings.Cut(addr, ":")
	return fmt.Sprintf("service %[1]s-login {\n  inet_listener %[1]s {\n    port = %[2]s\n  }\n}\n", service, port)
}

// openToOthers lets other users (Dovecot's mail processes run as nobody)
// enter dir and its parents up to the temporary directory.
func openToOthers(dir string) {
	tmp := filepath.Clean(os.TempDir())
	for p := filepath.Clean(dir); strings.HasPrefix(p, tmp+string(filepath.Separator)); p = filepath.Dir(p) {
		os.Chmod(p, 0o755)
	}
}
