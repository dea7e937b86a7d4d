package explore

import "context"

// Open reads and shows the server's greeting, making the session ready for
// Line calls. It is for callers that drive a session one line at a time
// instead of handing it an Input and calling Run: the lessons runner, which
// checks each exchange as it happens.
func (s *Session) Open(ctx context.Context) error {
	resp, err := s.read(ctx)
	if err != nil {
		return err
	}
	s.greeting = resp
	s.exchanged(Exchange{Response: resp})
	return s.afterResponse(ctx, resp)
}
