package server

import (
	"context"
	"encoding/json"
)

// CallAccounts is the control call that says where a running server takes
// its accounts from, so that `mailx serve user add` can refuse to edit an
// accounts file the server does not read.
const CallAccounts = "accounts"

// AccountsResult answers CallAccounts.
type AccountsResult struct {
	// Source is "file" (DATA/accounts, changes picked up while running) or
	// "flags" (--user or the config file's users: the accounts file is
	// ignored until the server is started without them).
	Source string   `json:"source"`
	Users  []string `json:"users"`
}

// accountsCall answers CallAccounts.
func (m *MTA) accountsCall(context.Context, json.RawMessage) (any, error) {
	res := AccountsResult{Source: "file", Users: []string{}}
	if len(m.cfg.Users) > 0 || len(m.cfg.UserHashes) > 0 {
		res.Source = "flags"
	}
	for _, a := range m.accts {
		res.Users = append(res.Users, a.Name)
	}
	return res, nil
}
