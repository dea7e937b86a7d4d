package server

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Unlimited is how a flag or config key says "no limit" for the transcript
// budget (stored as -1).
const Unlimited = "unlimited"

// ParseLimitSize reads a size for a budget: ParseSize's forms, or
// "unlimited" (-1).
func ParseLimitSize(v string) (int64, error) {
	if isUnlimited(v) {
		return -1, nil
	}
	n, err := ParseSize(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size such as 100M or 1G, or %q", v, Unlimited)
	}
	return n, nil
}

// ParseLimitAge reads an age for a budget: a Go duration (36h, 90m), a
// number of days (14d), or "unlimited" (-1).
func ParseLimitAge(v string) (time.Duration, error) {
	if isUnlimited(v) {
		return -1, nil
	}
	t := strings.TrimSpace(v)
	if d, ok := strings.CutSuffix(t, "d"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n > 0 && n < 100000 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(t); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%q is not an age such as 14d or 36h, or %q", v, Unlimited)
}

func isUnlimited(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case Unlimited, "none", "-1":
		return true
	}
	return false
}

// FormatLimitSize and FormatLimitAge print what the parsers read back.
func FormatLimitSize(n int64) string {
	if n < 0 {
		return Unlimited
	}
	return strconv.FormatInt(n, 10)
}

func FormatLimitAge(d time.Duration) string {
	switch {
	case d < 0:
		return Unlimited
	case d%(24*time.Hour) == 0 && d > 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// ParseNets reads a comma-separated list of networks (10.0.0.0/8) or
// addresses (192.0.2.7, taken as a /32 or /128).
func ParseNets(v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("%q is not a network such as 192.0.2.0/24 or an address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
