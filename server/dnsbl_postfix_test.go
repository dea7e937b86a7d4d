package server

import (
	"context"
	"fmt"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDNSBLReplyMatchesPostfix lists 203.0.113.66 in bl.lab.test, asks a
// real Postfix with reject_rbl_client bl.lab.test and mailx's lab server the
// same RCPT from that client (announced with XCLIENT), and compares the two
// replies. Postfix runs in a private network and mount namespace (unshare),
// with its own configuration, queue and data bind-mounted over /etc/postfix,
// /var/spool/postfix and /var/lib/postfix, and dnsmasq serving the zone on that namespace's
// 127.0.0.1:53, so nothing on the machine is touched and no packet leaves
// the namespace's loopback.
func TestDNSBLReplyMatchesPostfix(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a private network namespace (unshare -n)")
	}
	for _, tool := range []struct{ path, pkg string }{
		{"/usr/sbin/postfix", "postfix"}, {"/usr/sbin/dnsmasq", "dnsmasq"}, {"/usr/bin/swaks", "swaks"},
		{"/usr/bin/unshare", "util-linux"}, {"/usr/sbin/ip", "iproute2"}, {"/bin/ip", "iproute2"},
	} {
		if _, err := os.Stat(tool.path); err != nil {
			if tool.path == "/usr/sbin/ip" {
				continue
			}
			t.Skipf("%s not found: install the Debian package %s", tool.path, tool.pkg)
		}
	}
	if err := exec.Command("unshare", "-n", "-m", "true").Run(); err != nil {
		t.Skipf("cannot make a private namespace here (unshare -n -m): %v", err)
	}
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", "/etc/postfix", filepath.Join(dir, "etc")).CombinedOutput(); err != nil {
		t.Fatalf("copy /etc/postfix: %v %s", err, out)
	}
	// The data directory too: a Postfix already running on the machine (a
	// benchmark's peer) holds /var/lib/postfix/master.lock.
	os.MkdirAll(filepath.Join(dir, "spool"), 0o755)
	os.MkdirAll(filepath.Join(dir, "lib"), 0o755)
	mainCF := fmt.Sprintf(`compatibility_level = 3.6
myhostname = mx.hamburger.test
mydestination = hamburger.test
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = reject_rbl_client bl.lab.test, permit
maillog_file_prefixes = %[1]s
maillog_file = %[1]s/maillog
`, dir)
	os.WriteFile(filepath.Join(dir, "etc", "main.cf"), []byte(mainCF), 0o644)
	os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver 127.0.0.1\n"), 0o644)
	script := fmt.Sprintf(`
D=%[1]s
trap 'postfix stop >/dev/null 2>&1; kill $(cat $D/dnsmasq.pid) 2>/dev/null' EXIT
ip link set lo up
mount --bind $D/resolv.conf /etc/resolv.conf
mount --bind $D/etc /etc/postfix
mount --bind $D/spool /var/spool/postfix
chown postfix:postfix $D/lib && chmod 0700 $D/lib
mount --bind $D/lib /var/lib/postfix
dnsmasq --no-resolv --no-hosts --listen-address=127.0.0.1 --bind-interfaces --pid-file=$D/dnsmasq.pid --local=/bl.lab.test/ \
  --address=/66.113.0.203.bl.lab.test/127.0.0.2 --txt-record=66.113.0.203.bl.lab.test,"open relay abused"
postfix post-install create-missing >/dev/null 2>&1
postfix start >/dev/null 2>&1 || exit 3
for i in 1 2 3 4 5 6 7 8 9 10; do swaks --server 127.0.0.1 --port 25 --xclient-addr 203.0.113.66 --from x@spammer.test \
  --to bob@hamburger.test --quit-after RCPT --timeout 10 2>&1 && break; sleep 1; done
`, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "unshare", "-n", "-m", "--fork", "bash", "-c", script).CombinedOutput()
	m := regexp.MustCompile(`(?m)^<\*\* (554 .*)$`).FindStringSubmatch(string(out))
	if m == nil {
		log, _ := os.ReadFile(filepath.Join(dir, "maillog"))
		t.Fatalf("Postfix did not refuse the listed client:\n%s\nmaillog:\n%s", out, log)
	}
	postfix := strings.TrimSpace(m[1])

	l, _ := startLab(t, Config{}, "")
	if err := l.DNS.List(LabBlocklist, LabSpammer, "open relay abused"); err != nil {
		t.Fatal(err)
	}
	c, err := smtp.Dial(l.MTA("hamburger.test").Addr("smtp"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Hello("localhost")
	if _, _, err := textCmd(c, 220, "XCLIENT ADDR=203.0.113.66"); err != nil {
		t.Fatal(err)
	}
	textCmd(c, 250, "EHLO mx.spammer.test")
	c.Mail("x@spammer.test")
	id, _ := c.Text.Cmd("RCPT TO:<bob@hamburger.test>")
	c.Text.StartResponse(id)
	line, _ := c.Text.ReadLine()
	c.Text.EndResponse(id)
	if line != postfix {
		t.Errorf("the replies differ:\n Postfix: %s\n mailx:   %s", postfix, line)
	}
}
