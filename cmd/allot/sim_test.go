package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// allot sim prints one JSON ready line with the contract's keys (DESIGN.md
// §7), writes the CA where --ca-out says, and exits cleanly when stopped.
func TestSimReadyLine(t *testing.T) {
	t.Parallel()
	caOut := t.TempDir() + "/ca.pem"
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"sim", "--users", "40", "--seed", "3", "--ca-out", caOut, "--time-scale", "10"}, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadBytes('\n')
	require.NoError(t, err)
	var ready map[string]string
	require.NoError(t, json.Unmarshal(line, &ready))
	for _, k := range []string{"graph_url", "authority_url", "tenant_id", "client_id", "client_secret", "ca_file"} {
		require.NotEmpty(t, ready[k], k)
	}
	require.Equal(t, caOut, ready["ca_file"])
	require.Regexp(t, `^https://127\.0\.0\.1:\d+/v1\.0$`, ready["graph_url"])
	require.Regexp(t, `^https://127\.0\.0\.1:\d+/$`, ready["authority_url"])
	_, err = os.Stat(caOut)
	require.NoError(t, err)
	cancel()
	select {
	case code := <-done:
		require.Equal(t, 0, code, "a stopped server exits cleanly")
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop")
	}
}

func TestSimRejectsBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"sim", "--users", "0"},
		{"sim", "--time-scale", "-1"},
		{"sim", "--fault-429", "1.5"},
	} {
		var stderr bytes.Buffer
		require.Equal(t, 1, run(context.Background(), args, io.Discard, &stderr), args)
		require.Contains(t, stderr.String(), args[1], "the error names the flag")
	}
}
