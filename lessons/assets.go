package lessons

import (
	"embed"
	"io/fs"
	"sort"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

//go:embed builtin/assets
var assetFS embed.FS

// Asset returns an example file that lessons copy into the student's workspace.
func Asset(name string) ([]byte, error) {
	return fs.ReadFile(assetFS, "builtin/assets/"+name)
}

func assetExists(name string) bool {
	_, err := Asset(name)
	return err == nil
}

func assetNames() []string {
	entries, _ := fs.ReadDir(assetFS, "builtin/assets")
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// FormatDoc is lessons/README.md, the lesson file format for teachers, so
// that `mailx lessons format` can print it to users who have only the binary.
//
//go:embed README.md
var FormatDoc string
