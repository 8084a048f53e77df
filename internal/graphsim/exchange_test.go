package graphsim

import (
	"net/http"
	"testing"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/stretchr/testify/require"
)

func invoke(cmdlet string, params map[string]any) map[string]any {
	return map[string]any{"CmdletInput": map[string]any{"CmdletName": cmdlet, "Parameters": params}}
}

// The re-allocation flow converts a leaver's mailbox to shared through
// Exchange's InvokeCommand (graph.md §8), with an Exchange-audience token.
func TestExchangeInvokeCommand(t *testing.T) {
	t.Parallel()
	h := setup(t, Config{Users: 300})
	srv := h.srv
	exo := h.mustToken(h.info.ClientID, h.info.ClientSecret, "https://outlook.office365.com/.default")
	url := h.info.AuthorityURL + "adminapi/beta/" + h.info.TenantID + "/InvokeCommand"
	var userBox directory.Mailbox
	for _, m := range srv.Mailboxes() {
		if m.Type == directory.MailboxUser {
			userBox = m
			break
		}
	}
	require.NotEmpty(t, userBox.UserID)

	r := h.callAs(h.token, "POST", url, invoke("Get-Mailbox", map[string]any{"Identity": userBox.PrimarySMTPAddress}))
	require.Equal(t, http.StatusUnauthorized, r.status, "a Graph token is not an Exchange token")

	r = h.callAs(exo, "POST", url, invoke("Get-Mailbox", map[string]any{"Identity": userBox.PrimarySMTPAddress}))
	require.Equal(t, 200, r.status, string(r.raw))
	box := r.values()[0]
	require.Equal(t, "UserMailbox", box["RecipientTypeDetails"])
	require.Equal(t, userBox.UserID, box["ExternalDirectoryObjectId"])

	r = h.callAs(exo, "POST", url, invoke("Set-Mailbox", map[string]any{"Identity": userBox.UserID, "Type": "Shared"}), "client-request-id", "convert-1")
	require.Equal(t, 200, r.status, string(r.raw))
	m, err := srv.Mailbox(userBox.UserID)
	require.NoError(t, err)
	require.Equal(t, directory.MailboxShared, m.Type)
	r = h.callAs(exo, "POST", url, invoke("Get-Mailbox", map[string]any{"Identity": userBox.UserID}))
	require.Equal(t, "SharedMailbox", r.values()[0]["RecipientTypeDetails"])

	r = h.callAs(exo, "POST", url, invoke("Set-Mailbox", map[string]any{"Identity": userBox.UserID, "Type": "Regular"}))
	require.Equal(t, 200, r.status)
	m, _ = srv.Mailbox(userBox.UserID)
	require.Equal(t, directory.MailboxUser, m.Type)

	r = h.callAs(exo, "POST", url, invoke("Set-Mailbox", map[string]any{"Identity": "nobody@example.com", "Type": "Shared"}))
	require.Equal(t, 404, r.status)
	require.Contains(t, r.errMessage(), "ManagementObjectNotFoundException")
	r = h.callAs(exo, "POST", url, invoke("Set-Mailbox", map[string]any{"Identity": userBox.UserID, "Type": "Room2"}))
	require.Equal(t, 400, r.status)

	r = h.callAs(exo, "POST", url, invoke("Get-Mailbox", map[string]any{"RecipientTypeDetails": "SharedMailbox", "ResultSize": "Unlimited"}))
	require.Equal(t, 200, r.status)
	shared := 0
	for _, mb := range srv.Mailboxes() {
		if mb.Type == directory.MailboxShared {
			shared++
		}
	}
	require.Len(t, r.values(), shared)

	var ops []string
	for _, w := range srv.WriteLog() {
		if w.Op == "setMailbox" {
			ops = append(ops, w.Object+":"+w.Outcome)
		}
	}
	require.Equal(t, []string{"SharedMailbox:applied", "UserMailbox:applied"}, ops)
}
