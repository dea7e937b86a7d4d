//go:build !windows

package mx

// systemServers returns the servers in DefaultResolvConf.
func systemServers() ([]string, error) {
	return serversFromResolvConf(DefaultResolvConf)
}
