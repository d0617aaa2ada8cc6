// Command carelens is the patient engagement analytics service: it generates
// demo data, loads EHR and CRM exports into a de-identified DuckDB warehouse,
// computes SQL-defined metrics and serves them as JSON and dashboards.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/carelens/carelens/internal/config"
)

// Set at build time with -ldflags "-X main.version=...".
var (
	version = "dev"
	commit  = "unknown"
)

// command is one subcommand. run gets the arguments after its name.
type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what every command gets from main.
type env struct {
	stdout, stderr io.Writer
	environ        []string
}

var commands = map[string]command{
	"gen":      {"generate a synthetic identified EHR + CRM export", runGen},
	"fhir":     {"FHIR tools: run the SQL-on-FHIR conformance suite (fhir test-views)", runFHIR},
	"etl":      {"load data into the warehouse (etl run, etl runs)", runETL},
	"serve":    {"serve the JSON API and dashboards", runServe},
	"metrics":  {"list, check or run metric definitions", runMetrics},
	"measures": {"FHIR MeasureReports of the metrics (measures report)", runMeasures},
	"config":   {"print the effective configuration", runConfig},
	"privacy":  {"vault keys, erasure, identifier scan (privacy check)", runPrivacy},
	"keys":     {"API keys and their roles (keys add)", runKeys},
	"version":  {"print the version", runVersion},
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "carelens: patient engagement analytics\n\nUsage: carelens <command> [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(w, "\nRun 'carelens <command> --help' for a command's flags.\n"+
		"Configuration: defaults < JSON file (--config or CARELENS_CONFIG) < CARELENS_* env < flags.\n")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ()}))
}

func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "carelens: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return 2
	}
	err := cmd.run(ctx, e, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(e.stderr, "carelens %s: %v\n", args[0], err)
	return 1
}

var errUsage = errors.New("usage")

// flags returns a FlagSet for "carelens name" with the --config flag every
// command has. Parse errors print usage and give errUsage.
func newFlags(e *env, name, synopsis string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("carelens "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: carelens %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	cfgPath := fs.String("config", "", "JSON config file (env CARELENS_CONFIG)")
	return fs, cfgPath
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// loadConfig reads the configuration, overrides it with the flags the user
// set explicitly (flagKeys maps a flag name to its setting's key), validates
// it and builds the logger.
func loadConfig(e *env, fs *flag.FlagSet, cfgPath string, flagKeys map[string]string) (config.Config, *slog.Logger, error) {
	if cfgPath == "" {
		for _, kv := range e.environ {
			if v, ok := strings.CutPrefix(kv, config.EnvPrefix+"CONFIG="); ok {
				cfgPath = v
			}
		}
	}
	c, err := config.Load(cfgPath, e.environ)
	if err != nil {
		return c, nil, err
	}
	var flagErr error
	fs.Visit(func(f *flag.Flag) {
		if key, ok := flagKeys[f.Name]; ok && flagErr == nil {
			if err := c.Set(key, f.Value.String()); err != nil {
				flagErr = fmt.Errorf("--%s: %w", f.Name, err)
			}
		}
	})
	if flagErr != nil {
		return c, nil, flagErr
	}
	if err := c.Validate(); err != nil {
		return c, nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return c, c.Logger(e.stderr), nil
}

func runVersion(ctx context.Context, e *env, args []string) error {
	fs, _ := newFlags(e, "version", "version")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "carelens %s (commit %s)\n", version, commit)
	return nil
}

func runConfig(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "config", "config [--config FILE]")
	if err := parse(fs, args); err != nil {
		return err
	}
	c, _, err := loadConfig(e, fs, *cfgPath, nil)
	if err != nil {
		return err
	}
	return c.Print(e.stdout)
}
