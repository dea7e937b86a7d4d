package cmd

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X github.com/mailx-edu/mailx/cmd.version=v1.2.3";
// without it, the module version from the build info is used.
var version = ""

// Version returns mailx's version string.
func Version() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

// versionLine is the one line both `mailx version` and `mailx --version` print.
func versionLine() string {
	return fmt.Sprintf("mailx %s (%s, %s/%s)", Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

type versionOptions struct {
	IO   *IOStreams
	JSON bool
}

func newVersionCmd(ios *IOStreams) *cobra.Command {
	opts := &versionOptions{IO: ios}
	c := &cobra.Command{
		Use:     "version",
		Short:   "Print the mailx version",
		Example: "  mailx version\n  mailx version --json",
		Args:    noArgs,
		RunE: func(c *cobra.Command, args []string) error {
			r := opts.IO.Renderer(opts.JSON)
			if opts.JSON {
				return r.JSON(map[string]string{"version": Version(), "go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH})
			}
			r.Text(versionLine())
			return nil
		},
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print as JSON")
	return c
}
