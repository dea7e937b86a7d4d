package accounts

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/net/idna"
)

// Practice accounts created when none are configured. alice's password is
// the one the course notes use in their POP3 session.
var Practice = []Credential{{"alice", "hungry"}, {"bob", "burger"}}

// Credential is a user name and a clear-text password, as given on the
// command line (--user NAME:PASSWORD) or for the practice accounts.
type Credential struct {
	Name     string
	Password string
}

// ParseCredential parses "NAME:PASSWORD".
func ParseCredential(s string) (Credential, error) {
	name, pass, ok := strings.Cut(s, ":")
	if !ok || pass == "" {
		return Credential{}, fmt.Errorf("%q is not NAME:PASSWORD", s)
	}
	name = strings.ToLower(name)
	if err := ValidName(name); err != nil {
		return Credential{}, err
	}
	return Credential{Name: name, Password: pass}, nil
}

// ValidName checks a user name: it becomes a directory name under
// DATA/mail, so it must be safe on every platform and can never climb out
// ("..", slashes).
func ValidName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("user name %q must be 1 to 64 characters", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || (i > 0 && (c == '.' || c == '_' || c == '-'))
		if !ok {
			return fmt.Errorf("user name %q may hold only lower-case letters, digits and . _ - (not first)", name)
		}
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("user name %q may not contain ..", name)
	}
	return nil
}

// HashCost is the bcrypt cost for new hashes. Tests lower it for speed.
var HashCost = bcrypt.DefaultCost

// Hash returns the bcrypt hash of password.
func Hash(password string) ([]byte, error) {
	if len(password) > 72 {
		return nil, fmt.Errorf("password is longer than 72 bytes, which bcrypt cannot hash")
	}
	if password == "" {
		return nil, fmt.Errorf("password is empty")
	}
	return bcrypt.GenerateFromPassword([]byte(password), HashCost)
}

// dummyHash is compared against when the user does not exist, so that a
// wrong user name takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("mailx-no-such-user"), HashCost)
	return h
})

// Config describes a Directory.
type Config struct {
	// Domains are the mail domains handled here; the first is the primary.
	Domains []string
	// Users maps user name to bcrypt hash.
	Users map[string][]byte
	// Aliases maps a local part (lower case) to a user, e.g. "abuse" → "alice".
	Aliases map[string]string
	// Postmaster is the user who receives postmaster@, abuse@ and
	// mailer-daemon@ unless Aliases says otherwise; default: the first user
	// in alphabetical order.
	Postmaster string
	// File, when set, is the accounts file the users came from; the
	// directory re-reads it (at most once a second) when it changes, so
	// `mailx serve user add` takes effect in a running server.
	File string
}

// Directory answers the MTA's questions about users and domains. It is safe
// for concurrent use.
type Directory struct {
	mu      sync.RWMutex
	domains []string // ASCII, lower case
	users   map[string][]byte
	aliases map[string]string
	post    string

	file      string
	modTime   time.Time
	checkedAt time.Time
}

// New builds a Directory. It fails when a domain is not a valid domain name
// or an alias names an unknown user.
func New(c Config) (*Directory, error) {
	d := &Directory{users: map[string][]byte{}, aliases: map[string]string{}, file: c.File}
	if len(c.Domains) == 0 {
		return nil, fmt.Errorf("accounts: no mail domain configured")
	}
	for _, dom := range c.Domains {
		a, err := CanonicalDomain(dom)
		if err != nil {
			return nil, fmt.Errorf("accounts: domain %q: %w", dom, err)
		}
		if !slices.Contains(d.domains, a) {
			d.domains = append(d.domains, a)
		}
	}
	for u, h := range c.Users {
		d.users[strings.ToLower(u)] = h
	}
	for a, u := range c.Aliases {
		d.aliases[strings.ToLower(a)] = strings.ToLower(u)
	}
	d.post = c.Postmaster
	if err := d.check(); err != nil {
		return nil, err
	}
	if d.file != "" {
		if f, err := Load(d.file); err == nil {
			d.modTime = f.modTime
		}
		d.checkedAt = time.Now()
	}
	return d, nil
}

func (d *Directory) check() error {
	for a, u := range d.aliases {
		if _, ok := d.users[u]; !ok {
			return fmt.Errorf("accounts: alias %s points to %q, which is not a user", a, u)
		}
	}
	if d.post != "" {
		if _, ok := d.users[d.post]; !ok {
			return fmt.Errorf("accounts: postmaster %q is not a user", d.post)
		}
	}
	return nil
}

// CanonicalDomain returns a domain in the form used for comparisons: ASCII
// (A-labels), lower case, without a trailing dot.
func CanonicalDomain(dom string) (string, error) {
	dom = strings.TrimSuffix(strings.TrimSpace(dom), ".")
	a, err := idna.Lookup.ToASCII(dom)
	if err != nil || a == "" || len(a) > 255 {
		return "", fmt.Errorf("not a valid domain name")
	}
	for _, label := range strings.Split(a, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("not a valid domain name: label %q", label)
		}
		for i := 0; i < len(label); i++ {
			c := label[i] | 0x20
			if !(c >= 'a' && c <= 'z' || label[i] >= '0' && label[i] <= '9' || label[i] == '-') {
				return "", fmt.Errorf("not a valid domain name: character %q", label[i])
			}
		}
	}
	return strings.ToLower(a), nil
}

// refresh re-reads the accounts file when it changed on disk.
func (d *Directory) refresh() {
	if d.file == "" {
		return
	}
	d.mu.RLock()
	due := time.Since(d.checkedAt) >= time.Second
	d.mu.RUnlock()
	if !due {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if time.Since(d.checkedAt) < time.Second {
		return
	}
	d.checkedAt = time.Now()
	f, err := Load(d.file)
	if err != nil || f.modTime.Equal(d.modTime) {
		return
	}
	d.modTime = f.modTime
	d.users = f.users
}

// Domains returns the local domains, primary first, in ASCII form.
func (d *Directory) Domains() []string { return slices.Clone(d.domains) }

// Primary returns the first configured domain.
func (d *Directory) Primary() string { return d.domains[0] }

// IsLocalDomain reports whether mail for dom is delivered here. It accepts
// U-labels and any letter case.
func (d *Directory) IsLocalDomain(dom string) bool {
	a, err := CanonicalDomain(dom)
	if err != nil {
		return false
	}
	return slices.Contains(d.domains, a)
}

// Users returns the user names in alphabetical order.
func (d *Directory) Users() []string {
	d.refresh()
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]string, 0, len(d.users))
	for u := range d.users {
		out = append(out, u)
	}
	slices.Sort(out)
	return out
}

// Postmaster returns the user who receives postmaster@ mail.
func (d *Directory) Postmaster() string {
	if d.post != "" {
		return d.post
	}
	if u := d.Users(); len(u) > 0 {
		return u[0]
	}
	return ""
}

// roles are the mailboxes RFC 2142 and RFC 5321 expect every domain to have.
var roles = []string{"postmaster", "abuse", "mailer-daemon"}

// Resolve maps an address in a local domain to the user whose mailbox
// receives it. It handles case-insensitive local parts, quoted local parts
// that are plain names ("alice"@), subaddresses (bob+tag@ → bob), aliases
// and the role mailboxes. It never treats "@" or "%" inside a local part as a
// routing instruction: "a@b"@local and a%b@local are simply unknown users.
func (d *Directory) Resolve(addr string) (user string, ok bool) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return "", false
	}
	local, dom := addr[:at], addr[at+1:]
	if !d.IsLocalDomain(dom) {
		return "", false
	}
	return d.ResolveLocal(local)
}

// ResolveLocal is Resolve for a local part alone (as in RCPT TO:<Postmaster>).
func (d *Directory) ResolveLocal(local string) (string, bool) {
	if len(local) >= 2 && local[0] == '"' && local[len(local)-1] == '"' {
		u, err := strconv.Unquote(local)
		if err != nil {
			return "", false
		}
		local = u
	}
	local = strings.ToLower(local)
	d.refresh()
	d.mu.RLock()
	defer d.mu.RUnlock()
	if u, ok := d.aliases[local]; ok {
		return u, true
	}
	if _, ok := d.users[local]; ok {
		return local, true
	}
	if base, _, found := strings.Cut(local, "+"); found && base != "" {
		if u, ok := d.aliases[base]; ok {
			return u, true
		}
		if _, ok := d.users[base]; ok {
			return base, true
		}
		local = base
	}
	if slices.Contains(roles, local) {
		d.mu.RUnlock()
		p := d.Postmaster()
		d.mu.RLock()
		return p, p != ""
	}
	return "", false
}

// Authenticate checks a password. name may be a user name or a full address
// in a local domain (many mail clients log in with the address). It always
// does one bcrypt comparison, so its timing does not tell whether the user
// exists.
func (d *Directory) Authenticate(name, password string) bool {
	user := strings.ToLower(name)
	if strings.Contains(name, "@") {
		u, ok := d.Resolve(name)
		if !ok {
			user = ""
		} else {
			user = u
		}
	}
	d.refresh()
	d.mu.RLock()
	hash, ok := d.users[user]
	d.mu.RUnlock()
	if !ok {
		hash = dummyHash()
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(password))
	return ok && err == nil
}
