package directory

// MailboxType is the Exchange RecipientTypeDetails allot cares about. Only
// user mailboxes need a license; converting a leaver's mailbox to shared is
// how a seat is freed without losing mail.
type MailboxType string

// Mailbox types as Exchange's Set-Mailbox -Type names them.
const (
	MailboxUser   MailboxType = "User"
	MailboxShared MailboxType = "Shared"
	MailboxRoom   MailboxType = "Room"
	MailboxEquip  MailboxType = "Equipment"
)

// Mailbox is the Exchange mailbox of a user.
type Mailbox struct {
	TenantID           string      `json:"tenant_id"`
	UserID             string      `json:"user_id"`
	PrimarySMTPAddress string      `json:"primarySmtpAddress"`
	Type               MailboxType `json:"type"`
}
