package cmd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mailx-edu/mailx/server"
	"github.com/mailx-edu/mailx/server/control"
	"github.com/mailx-edu/mailx/server/scenario"
)

type serveScenarioOptions struct {
	IO       *IOStreams
	Domain   string // "" lists the scenarios
	Scenario string // "" reports the current one
	Data     string // --data
	JSON     bool
}

func newServeScenarioCmd(ios *IOStreams, runF func(context.Context, *serveScenarioOptions) error) *cobra.Command {
	opts := &serveScenarioOptions{IO: ios}
	var lines []string
	for _, n := range scenario.Names() {
		lines = append(lines, "  "+n+strings.Repeat(" ", 14-len(n))+scenario.Descriptions[n])
	}
	c := &cobra.Command{
		Use:   "scenario [DOMAIN [NAME [ARGS...]]]",
		Short: "Switch a domain of a running server to a teaching scenario (down, greylist, ...)",
		Long: `Make the running mail server of DOMAIN misbehave in one textbook way, to watch
how sending servers cope, or back to normal. Without NAME it says which
scenario is in force; without DOMAIN it lists the scenarios:

` + strings.Join(lines, "\n") + `

It talks to the running mailx serve (or mailx serve --lab) through its
control endpoint; --data is that server's data directory. For the lab it
finds the domain's server under the lab's directory by itself.`,
		Example: `  mailx serve scenario
  mailx serve scenario hamburger.test greylist
  mailx serve scenario hamburger.test reject-next 554
  mailx serve scenario hamburger.test normal
  mailx serve scenario mailx.test down --data ./data`,
		Args: maxArgs(4),
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				opts.Domain = strings.ToLower(args[0])
			}
			if len(args) > 1 {
				opts.Scenario = strings.Join(args[1:], " ")
				if _, err := scenario.Parse(opts.Scenario); err != nil {
					return usageError("Run 'mailx serve scenario' to list them.", "%v", err)
				}
			}
			if runF == nil {
				runF = runServeScenario
			}
			return runF(c.Context(), opts)
		},
	}
	queueDataFlag(c, &opts.Data)
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	return c
}

func runServeScenario(ctx context.Context, opts *serveScenarioOptions) error {
	r := opts.IO.Renderer(opts.JSON)
	if opts.Domain == "" {
		if opts.JSON {
			return r.JSON(scenario.Descriptions)
		}
		for _, n := range scenario.Names() {
			r.Field(n, scenario.Descriptions[n])
		}
		return nil
	}
	cl, err := dialScenarioServer(ctx, opts)
	if err != nil {
		return err
	}
	var res server.ScenarioResult
	if err := cl.Call(ctx, server.CallScenario, server.ScenarioArgs{Domain: opts.Domain, Scenario: opts.Scenario}, &res); err != nil {
		var ce *control.Error
		if errors.As(err, &ce) && ce.Code == "not_found" {
			return failure("Name one of that server's domains (its banner lists them), or pass the --data directory of the right server.", "%s", ce.Message)
		}
		return failure("", "%w", err)
	}
	if opts.JSON {
		return r.JSON(res)
	}
	verb := "is in"
	if opts.Scenario != "" {
		verb = "is now in"
	}
	r.Success(res.Domain + " " + verb + " scenario " + res.Text)
	r.Notef("%s", scenario.Descriptions[res.Scenario.Name])
	return nil
}

// dialScenarioServer finds the control endpoint of the server of
// opts.Domain: the data directory's own, or its DOMAIN/ subdirectory (a
// lab); with no --data, serve's default directory and then the lab's.
func dialScenarioServer(ctx context.Context, opts *serveScenarioOptions) (*control.Client, error) {
	var bases []string
	if opts.Data != "" {
		bases = []string{opts.Data}
	} else {
		d, err := queueDataDir(opts.IO, "")
		if err != nil {
			return nil, err
		}
		bases = []string{d, filepath.Join(filepath.Dir(d), "lab")}
	}
	var tried []string
	for _, b := range bases {
		for _, dir := range []string{filepath.Join(b, opts.Domain), b} {
			if _, err := os.Stat(filepath.Join(dir, "control.json")); err != nil {
				tried = append(tried, dir)
				continue
			}
			cl, err := control.Dial(ctx, dir)
			if err == nil {
				return cl, nil
			}
			tried = append(tried, dir+" ("+err.Error()+")")
		}
	}
	return nil, failure("Start it first (mailx serve, or mailx serve --lab), or pass the --data directory it uses.",
		"no running mail server found for %s (looked in %s)", opts.Domain, strings.Join(tried, ", "))
}
