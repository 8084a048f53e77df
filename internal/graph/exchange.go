package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Graph cannot change a mailbox's type (reference/graph.md §8); Exchange
// Online's admin API can, through the same InvokeCommand endpoint the
// Exchange PowerShell module uses. The app needs Exchange.ManageAsApp and the
// Exchange Administrator role.

const (
	opGetMailbox     = "GetMailbox"
	opListMailboxes  = "ListMailboxes"
	opSetMailboxType = "SetMailboxType"
	opInvokeCommand  = "InvokeCommand"
	permExchange     = "Exchange.ManageAsApp (and the Exchange Administrator role)"
)

// Mailbox is the subset of Get-Mailbox output allot reads.
type Mailbox struct {
	Identity                  string `json:"Identity,omitempty"`
	DisplayName               string `json:"DisplayName,omitempty"`
	UserPrincipalName         string `json:"UserPrincipalName,omitempty"`
	PrimarySMTPAddress        string `json:"PrimarySmtpAddress,omitempty"`
	ExternalDirectoryObjectID string `json:"ExternalDirectoryObjectId,omitempty"`
	// RecipientTypeDetails is UserMailbox, SharedMailbox, RoomMailbox,
	// EquipmentMailbox, …
	RecipientTypeDetails string `json:"RecipientTypeDetails,omitempty"`
}

// Mailbox types accepted by Set-Mailbox -Type.
const (
	MailboxTypeShared  = "Shared"
	MailboxTypeRegular = "Regular"
)

type cmdletInput struct {
	CmdletInput struct {
		CmdletName string         `json:"CmdletName"`
		Parameters map[string]any `json:"Parameters"`
	} `json:"CmdletInput"`
}

func (c *Client) exchangeQuery(op, cmdlet string, params map[string]any) (Query, error) {
	var in cmdletInput
	in.CmdletInput.CmdletName = cmdlet
	in.CmdletInput.Parameters = params
	if in.CmdletInput.Parameters == nil {
		in.CmdletInput.Parameters = map[string]any{}
	}
	b, err := json.Marshal(in)
	if err != nil {
		return Query{}, fmt.Errorf("graph: %s: encoding %s: %w", op, cmdlet, err)
	}
	return Query{Op: op, Path: "/" + url.PathEscape(c.cfg.TenantID) + "/InvokeCommand", Permission: permExchange,
		// Routes the call to the tenant's system mailbox, as the
		// Exchange PowerShell module does for app-only sessions.
		Header: http.Header{"X-AnchorMailbox": {"APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@" + c.cfg.TenantID}},
		body:   b, exchange: true}, nil
}

// InvokeCommand runs an Exchange cmdlet and streams its result objects, page
// by page (Exchange pages large results with @odata.nextLink like Graph).
func (c *Client) InvokeCommand(ctx context.Context, cmdlet string, params map[string]any, fn PageFunc[json.RawMessage]) error {
	if strings.TrimSpace(cmdlet) == "" {
		return fmt.Errorf("graph: %s: %w: cmdlet name is empty", opInvokeCommand, ErrInvalidInput)
	}
	q, err := c.exchangeQuery(opInvokeCommand, cmdlet, params)
	if err != nil {
		return err
	}
	_, err = forEachPage(ctx, c, q, fn)
	return err
}

// GetMailbox returns one mailbox by identity (UPN, SMTP address or object
// id). A missing mailbox is an *Error satisfying IsNotFound.
func (c *Client) GetMailbox(ctx context.Context, identity string) (*Mailbox, error) {
	if err := needID(opGetMailbox, "identity", identity); err != nil {
		return nil, err
	}
	q, err := c.exchangeQuery(opGetMailbox, "Get-Mailbox", map[string]any{"Identity": identity})
	if err != nil {
		return nil, err
	}
	var got []Mailbox
	if _, err := forEachPage(ctx, c, q, Collect(&got)); err != nil {
		return nil, err
	}
	if len(got) == 0 {
		return nil, &Error{Op: opGetMailbox, Status: http.StatusNotFound, Code: "ManagementObjectNotFound",
			Message: fmt.Sprintf("no mailbox %q", identity), Permission: permExchange}
	}
	return &got[0], nil
}

// ListMailboxes streams every mailbox of the tenant (Get-Mailbox
// -ResultSize Unlimited), so the inventory can record mailbox types.
func (c *Client) ListMailboxes(ctx context.Context, fn PageFunc[Mailbox]) error {
	q, err := c.exchangeQuery(opListMailboxes, "Get-Mailbox", map[string]any{"ResultSize": "Unlimited"})
	if err != nil {
		return err
	}
	_, err = forEachPage(ctx, c, q, fn)
	return err
}

// SetMailboxType converts a mailbox to MailboxTypeShared (freeing its
// license once removed) or back to MailboxTypeRegular.
func (c *Client) SetMailboxType(ctx context.Context, identity, typ string) error {
	if err := needID(opSetMailboxType, "identity", identity); err != nil {
		return err
	}
	if typ != MailboxTypeShared && typ != MailboxTypeRegular {
		return fmt.Errorf("graph: %s: %w: mailbox type %q (want %s or %s)", opSetMailboxType, ErrInvalidInput, typ,
			MailboxTypeShared, MailboxTypeRegular)
	}
	q, err := c.exchangeQuery(opSetMailboxType, "Set-Mailbox", map[string]any{"Identity": identity, "Type": typ})
	if err != nil {
		return err
	}
	cl := &call{op: q.Op, permission: q.Permission, method: http.MethodPost, header: q.Header, body: q.body,
		exchange: true, idempotent: true, cost: cost{requests: 1, writes: 1}}
	if cl.url, err = c.firstURL(q); err != nil {
		return err
	}
	_, err = c.do(ctx, cl)
	return err
}
