package spam

import (
	"embed"
	"io/fs"
	"sort"
)

// corpus is mailx's own small training set: everyday lab mail (ham) and
// textbook spam, written for mailx. Lessons train with it and a new user's
// filter starts from its ham (see the package documentation).
//
//go:embed corpus
var corpus embed.FS

// Corpus returns the built-in messages of one kind, "ham" or "spam", in
// file name order.
func Corpus(kind string) [][]byte {
	names, _ := fs.Glob(corpus, "corpus/"+kind+"/*.eml")
	sort.Strings(names)
	var out [][]byte
	for _, n := range names {
		b, err := corpus.ReadFile(n)
		if err == nil {
			out = append(out, b)
		}
	}
	return out
}
