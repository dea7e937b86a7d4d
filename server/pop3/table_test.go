package pop3

import (
	"testing"

	p3 "github.com/mailx-edu/mailx/proto/pop3"
)

// TestEveryCommandHasAHandler: the server answers exactly the commands of
// proto/pop3's table. A verb added to the table without a handler here would
// pass the state check and then have nothing to run; a handler without a
// table row would never be reached.
func TestEveryCommandHasAHandler(t *testing.T) {
	for verb := range p3.Commands {
		if handlers[verb] == nil {
			t.Errorf("proto/pop3 lists %s but server/pop3 has no handler for it: add one to handlers in session.go", verb)
		}
	}
	for verb := range handlers {
		if _, ok := p3.Lookup(verb); !ok {
			t.Errorf("server/pop3 handles %s, which proto/pop3's Commands table does not list: add its row there", verb)
		}
	}
}
