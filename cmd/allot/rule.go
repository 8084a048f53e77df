package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/rule"
)

func init() { register(newRuleCmd) }

func newRuleCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rule",
		Short: "Work with Entra dynamic membership rules",
	}
	cmd.AddCommand(newRuleCheckCmd(c))
	return cmd
}

// ruleCheckJSON is the --json document of `allot rule check` (DESIGN.md §7).
type ruleCheckJSON struct {
	OK         bool           `json:"ok"`
	Normalized string         `json:"normalized,omitempty"`
	Object     string         `json:"object,omitempty"`
	Error      *ruleErrorJSON `json:"error,omitempty"`
}

type ruleErrorJSON struct {
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Message  string   `json:"message"`
	Expected []string `json:"expected"`
	Kind     string   `json:"kind"` // "syntax" or "invalid"
}

func newRuleCheckCmd(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check RULE",
		Short: "Parse a membership rule; print its normalised form, or the error with line and column",
		Long: "Parse an Entra dynamic membership rule the way allot evaluates it. On success print the\n" +
			"normalised rule; otherwise print the error with its line and column and exit 1.\n" +
			"Pass - as RULE to read the rule from standard input.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := args[0]
			if src == "-" {
				b, err := io.ReadAll(cmd.InOrStdin())
				if err != nil {
					return fmt.Errorf("read rule from stdin: %w", err)
				}
				src = strings.TrimRight(string(b), "\r\n")
			}
			r, err := rule.Parse(src)
			var rerr *rule.Error
			if err != nil && !errors.As(err, &rerr) {
				return err
			}
			if asJSON {
				out := ruleCheckJSON{OK: err == nil}
				if err == nil {
					out.Normalized, out.Object = r.String(), r.Object
				} else {
					out.Error = &ruleErrorJSON{Line: rerr.Line, Column: rerr.Column, Message: rerr.Message,
						Expected: append([]string{}, rerr.Expected...), Kind: errorKind(err)}
				}
				if encErr := json.NewEncoder(c.stdout).Encode(out); encErr != nil {
					return encErr
				}
				return err
			}
			if err != nil {
				showErrorPosition(c.stderr, src, rerr)
				return err
			}
			_, err = fmt.Fprintln(c.stdout, r.String())
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

func errorKind(err error) string {
	if errors.Is(err, rule.ErrSyntax) {
		return "syntax"
	}
	return "invalid"
}

// showErrorPosition prints the offending line with a caret under the column,
// as compilers do, so a long rule's error is found at a glance.
func showErrorPosition(w io.Writer, src string, e *rule.Error) {
	lines := strings.Split(src, "\n")
	if e.Line < 1 || e.Line > len(lines) {
		return
	}
	line := strings.ReplaceAll(lines[e.Line-1], "\t", " ")
	runes := []rune(line)
	col := min(max(e.Column-1, 0), len(runes))
	fmt.Fprintf(w, "  %s\n  %s^\n", line, strings.Repeat(" ", col))
	if len(e.Expected) > 0 && len(e.Expected) <= 12 {
		fmt.Fprintf(w, "  expected: %s\n", strings.Join(e.Expected, ", "))
	}
}
