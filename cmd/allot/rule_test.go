package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestRuleCheck(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCLI(t, "rule", "check", `(user.department -eq "Sales") -and -not (user.jobTitle –startsWith "SDE")`)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "user.department -eq \"Sales\" -and -not (user.jobTitle -startsWith \"SDE\")\n", out)
	require.Empty(t, errOut)

	code, out, errOut = runCLI(t, "rule", "check", "user.department -eq \"Sales\" -and\n  user.city -eq Lagos")
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Contains(t, errOut, "line 2, column 17: expected a value")
	// The offending line with a caret under the column.
	require.Contains(t, errOut, "  user.city -eq Lagos\n                  ^\n")
}

func TestRuleCheckJSON(t *testing.T) {
	t.Parallel()
	type result struct {
		OK         bool   `json:"ok"`
		Normalized string `json:"normalized"`
		Error      *struct {
			Line     int      `json:"line"`
			Column   int      `json:"column"`
			Message  string   `json:"message"`
			Expected []string `json:"expected"`
		} `json:"error"`
	}

	code, out, _ := runCLI(t, "rule", "check", "--json", `user.city -in ['Lagos','Ibadan']`)
	require.Equal(t, 0, code)
	var ok result
	require.NoError(t, json.Unmarshal([]byte(out), &ok))
	require.True(t, ok.OK)
	require.Equal(t, `user.city -in ["Lagos", "Ibadan"]`, ok.Normalized)
	require.Nil(t, ok.Error)

	code, out, errOut := runCLI(t, "rule", "check", "--json", `user.department -lt "x"`)
	require.Equal(t, 1, code)
	require.NotEmpty(t, errOut)
	var bad result
	require.NoError(t, json.Unmarshal([]byte(out), &bad))
	require.False(t, bad.OK)
	require.Empty(t, bad.Normalized)
	require.NotNil(t, bad.Error)
	require.Equal(t, 1, bad.Error.Line)
	require.Equal(t, 17, bad.Error.Column)
	require.Contains(t, bad.Error.Message, "unknown operator -lt")
	require.Contains(t, bad.Error.Expected, "-le")

	// Semantic errors have no completion list, but "expected" is still an array.
	code, out, _ = runCLI(t, "rule", "check", "--json", `user.mail -not null`)
	require.Equal(t, 1, code)
	require.Contains(t, out, `"expected":[]`)
}

func TestRuleCheckUsage(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCLI(t, "rule", "check")
	require.Equal(t, 1, code)
	require.Empty(t, out)
	require.Contains(t, errOut, "accepts 1 arg")
}

// "-" reads the rule from standard input, for long multi-line rules.
func TestRuleCheckStdin(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	saved := os.Stdin
	os.Stdin = r
	t.Cleanup(func() { os.Stdin = saved })
	_, err = w.WriteString("(user.department -eq \"Accounts\" -and user.city -eq \"Lagos\") -or\n(user.department -eq \"Accounts\" -and user.city -eq \"Abuja\")\n")
	require.NoError(t, err)
	require.NoError(t, w.Close())

	code, out, errOut := runCLI(t, "rule", "check", "-")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "(user.department -eq \"Accounts\" -and user.city -eq \"Lagos\") -or (user.department -eq \"Accounts\" -and user.city -eq \"Abuja\")\n", out)
}
