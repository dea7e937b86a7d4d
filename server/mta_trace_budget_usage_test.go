package server

// usage reports the files and octets the budget knows of, for the tests
// (nothing in the server needs it).
func (b *transcriptBudget) usage() (files int, bytes int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.files.Len(), b.total
}
