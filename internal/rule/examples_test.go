package rule_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/rule"
)

var update = flag.Bool("update", false, "rewrite the expectations in testdata/*.txt")

// caseFile is a testdata file of rules and what Parse makes of them.
type caseFile struct {
	header []string
	cases  []ruleCase
}

type ruleCase struct {
	comments []string
	rule     string
	want     string // "=> normalised" or "!! kind line:col message"
	line     int
}

// readCases reads blocks separated by blank lines: the first is the file's
// header comment; each other is "#" comments, the rule (one or more lines)
// and, last, the expectation.
func readCases(t testing.TB, name string) *caseFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	blocks := strings.Split(strings.TrimRight(string(b), "\n"), "\n\n")
	f := &caseFile{header: strings.Split(blocks[0], "\n")}
	line := len(f.header) + 2
	for _, blk := range blocks[1:] {
		lines := strings.Split(blk, "\n")
		c := ruleCase{}
		for len(lines) > 0 && strings.HasPrefix(lines[0], "#") {
			c.comments, lines = append(c.comments, lines[0]), lines[1:]
		}
		require.GreaterOrEqual(t, len(lines), 2, "%s:%d: a block needs a rule and an expectation", name, line)
		c.line = line + len(c.comments)
		c.rule, c.want = strings.Join(lines[:len(lines)-1], "\n"), lines[len(lines)-1]
		f.cases = append(f.cases, c)
		line += strings.Count(blk, "\n") + 2
	}
	return f
}

func (f *caseFile) write(t testing.TB, name string) {
	var b strings.Builder
	b.WriteString(strings.Join(f.header, "\n") + "\n")
	for _, c := range f.cases {
		b.WriteString("\n" + strings.Join(c.comments, "\n") + "\n" + c.rule + "\n" + c.want + "\n")
	}
	require.NoError(t, os.WriteFile(filepath.Join("testdata", name), []byte(b.String()), 0o644))
}

// outcome renders what Parse makes of src in the testdata notation.
func outcome(src string) string {
	r, err := rule.Parse(src)
	if err == nil {
		return "=> " + r.String()
	}
	var e *rule.Error
	if !errors.As(err, &e) {
		return "!! untyped " + err.Error()
	}
	kind := "invalid"
	if errors.Is(err, rule.ErrSyntax) {
		kind = "syntax"
	}
	return fmt.Sprintf("!! %s %d:%d %s", kind, e.Line, e.Column, e.Message)
}

// TestExamples runs every rule the documentation quotes and every documented
// invalid rule, and checks the normalised form or the exact error.
func TestExamples(t *testing.T) {
	for _, name := range []string{"examples.txt", "invalid.txt"} {
		f := readCases(t, name)
		for i, c := range f.cases {
			got := outcome(c.rule)
			if *update {
				f.cases[i].want = got
				continue
			}
			require.Equal(t, c.want, got, "%s:%d: %s", name, c.line, c.rule)
			if strings.HasPrefix(got, "=> ") {
				// The normalised form is itself a fixed point.
				require.Equal(t, got, outcome(strings.TrimPrefix(got, "=> ")), "%s:%d", name, c.line)
			}
		}
		if *update {
			f.write(t, name)
		}
	}
}
