package explore

import (
	"io"
	"os"
)

var errorsEOF = io.EOF

func writeFile(path, text string) error { return os.WriteFile(path, []byte(text), 0o644) }
