// Command allot is the license-management and identity-governance server for
// Microsoft Entra ID. Each subcommand lives in its own file and registers
// itself with register, so packages can grow the CLI without touching a
// shared list.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "dev"

// cli carries what every subcommand needs: the --db value and the streams,
// so tests can run commands in-process and read their output.
type cli struct {
	db     string
	stdout io.Writer
	stderr io.Writer
}

var commands []func(*cli) *cobra.Command

// register adds a subcommand constructor; called from init in each command file.
func register(f func(*cli) *cobra.Command) { commands = append(commands, f) }

func newRoot(c *cli) *cobra.Command {
	root := &cobra.Command{
		Use:           "allot",
		Short:         "License management and identity governance for Microsoft Entra ID",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	def := os.Getenv("ALLOT_DB")
	if def == "" {
		def = "allot.db"
	}
	root.PersistentFlags().StringVar(&c.db, "db", def, "warehouse: a path, sqlite://path or postgres://… (env ALLOT_DB)")
	for _, f := range commands {
		root.AddCommand(f(c))
	}
	return root
}

// run executes the CLI and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{stdout: stdout, stderr: stderr}
	root := newRoot(c)
	root.SetArgs(args)
	if err := root.ExecuteContext(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, "allot: interrupted")
			return 130
		}
		fmt.Fprintln(stderr, "allot:", err)
		return 1
	}
	return 0
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
