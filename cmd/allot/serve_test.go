package main

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
)

// A mistyped --trusted-proxy stops the server with a clear error instead of
// silently trusting nobody (or everybody).
func TestServeRejectsBadTrustedProxy(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--db", warehousetest.SQLitePath(t), "--addr", "127.0.0.1:0",
		"--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "proxy.internal"}, io.Discard, &stderr)
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr.String(), `--trusted-proxy "proxy.internal": want an address or a CIDR`)
}
