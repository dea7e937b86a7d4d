package server

import (
	"fmt"
	"strconv"
	"strings"
)

// The [spam] section of the config file (see ExampleConfig).
func init() {
	num := func(field func(*Config) *float64) setter {
		return func(c *Config, v string) error {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return fmt.Errorf("%q is not a number such as 5.0", v)
			}
			*field(c) = f
			return nil
		}
	}
	sections["spam"] = map[string]setter{
		"checks": func(c *Config, v string) error {
			switch strings.ToLower(v) {
			case "on", "yes", "true", "off", "no", "false", "":
				c.Spam.Checks = strings.ToLower(v)
				return nil
			}
			return fmt.Errorf("%q: write on or off", v)
		},
		"dkim_sign": func(c *Config, v string) error {
			var on bool
			if err := boolean(func(*Config) *bool { return &on })(c, v); err != nil {
				return err
			}
			c.Spam.NoSign = !on
			return nil
		},
		"dnsbl": func(c *Config, v string) error {
			c.Spam.DNSBL = nil
			for _, z := range list(v) {
				zone, err := ParseDNSBL(z)
				if err != nil {
					return err
				}
				c.Spam.DNSBL = append(c.Spam.DNSBL, zone)
			}
			return nil
		},
		"dnsbl_action": func(c *Config, v string) error {
			v = strings.ToLower(strings.TrimSpace(v))
			if v != "reject" && v != "score" {
				return fmt.Errorf("%q: write reject or score", v)
			}
			c.Spam.DNSBLAction = v
			return nil
		},
		"spam_threshold": num(func(c *Config) *float64 { return &c.Spam.Threshold }),
		"spam_reject":    num(func(c *Config) *float64 { return &c.Spam.Reject }),
	}
}
