package workflow

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/smtp"
	"strings"
	"text/template"
	"time"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
)

// NoteData is what notification templates see.
type NoteData struct {
	Request    warehouse.Request
	User       directory.User
	Group      directory.Group
	Initiator  Principal
	Pool       string
	ApprovalID string
	// Count is the number of removals in an approver batch.
	Count int
}

// noteExtra carries what only some notifications know.
type noteExtra struct {
	approvers  []Principal
	approvalID string
	count      int
}

type templates struct{ subject, body *template.Template }

func parseTemplates(a *Activity) (templates, error) {
	var t templates
	var err error
	if t.subject, err = template.New("subject").Option("missingkey=error").Parse(a.Subject); err != nil {
		return t, fmt.Errorf("subject template: %w", err)
	}
	if t.body, err = template.New("body").Option("missingkey=error").Parse(a.Body); err != nil {
		return t, fmt.Errorf("body template: %w", err)
	}
	return t, nil
}

// notify renders a notification activity into outbox rows: one email per
// recipient address and one webhook call. Delivery happens later, apart
// from the request, so a refusing mail server never blocks a change.
func (p *Pipeline) notify(ctx context.Context, f *facts, rec *warehouse.Request, req *Request, a *Activity, x noteExtra, fx *effects) error {
	data := NoteData{Request: *rec, Initiator: req.Initiator, Pool: req.Pool, ApprovalID: x.approvalID, Count: x.count}
	u, err := f.user(ctx, req.UserID)
	if err != nil {
		return err
	}
	if u != nil {
		data.User = *u
	}
	g, err := f.group(ctx, req.GroupID)
	if err != nil {
		return err
	}
	if g != nil {
		data.Group = *g
	}
	t, err := parseTemplates(a)
	if err != nil {
		return err
	}
	var subject, body bytes.Buffer
	if err := t.subject.Execute(&subject, data); err != nil {
		return fmt.Errorf("notification subject: %w", err)
	}
	if err := t.body.Execute(&body, data); err != nil {
		return fmt.Errorf("notification body: %w", err)
	}
	var addrs []string
	for _, to := range a.To {
		switch to {
		case "requester":
			addrs = append(addrs, req.Initiator.Email)
		case "user":
			addrs = append(addrs, data.User.Mail)
		case "approvers":
			who := x.approvers
			if who == nil {
				if who, err = p.Access.Approvers(ctx, rec.TenantID, req.scope()); err != nil {
					return err
				}
			}
			for _, pr := range who {
				addrs = append(addrs, pr.Email)
			}
		case "owners":
			if g != nil {
				owners, err := p.owners(ctx, f, g)
				if err != nil {
					return err
				}
				for _, pr := range owners {
					addrs = append(addrs, pr.Email)
				}
			}
		default:
			addrs = append(addrs, to)
		}
	}
	for _, addr := range uniq(addrs) {
		if !strings.Contains(addr, "@") {
			continue
		}
		fx.notes = append(fx.notes, warehouse.Notification{ID: newID(), TenantID: rec.TenantID, RequestID: rec.ID,
			Channel: "email", Recipient: addr, Subject: strings.TrimSpace(subject.String()), Body: body.String()})
	}
	if a.Webhook != "" {
		payload := mustJSON(map[string]any{"request_id": rec.ID, "tenant_id": rec.TenantID, "operation": rec.Operation,
			"status": rec.Status, "user_id": rec.UserID, "target_id": rec.TargetID, "pool": rec.Pool,
			"subject": strings.TrimSpace(subject.String()), "text": body.String()})
		fx.notes = append(fx.notes, warehouse.Notification{ID: newID(), TenantID: rec.TenantID, RequestID: rec.ID,
			Channel: "webhook", Recipient: a.Webhook, Subject: strings.TrimSpace(subject.String()), Body: string(payload)})
	}
	return nil
}

// Mailer sends notifications. Zero fields of SMTP disable email (such
// notifications fail after their attempts and are kept for the record).
type Mailer struct {
	// SMTPAddr is host:port of the relay.
	SMTPAddr string
	From     string
	// Auth is optional (PLAIN auth requires TLS or loopback, as net/smtp enforces).
	Auth smtp.Auth
	// HTTP posts webhooks; nil means a client with a 10 s timeout.
	HTTP *http.Client
	// MaxAttempts before a notification is marked failed (default 8).
	MaxAttempts int
	// Backoff is the first retry delay, doubled per attempt (default 5 s).
	Backoff time.Duration
}

func (m *Mailer) send(ctx context.Context, n *warehouse.Notification) error {
	switch n.Channel {
	case "email":
		if m.SMTPAddr == "" {
			return fmt.Errorf("no SMTP relay configured")
		}
		msg := "From: " + m.From + "\r\nTo: " + n.Recipient + "\r\nSubject: " + sanitizeHeader(n.Subject) +
			"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
			strings.ReplaceAll(n.Body, "\n", "\r\n")
		return smtp.SendMail(m.SMTPAddr, m.Auth, m.From, []string{n.Recipient}, []byte(msg))
	case "webhook":
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.Recipient, strings.NewReader(n.Body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		c := m.HTTP
		if c == nil {
			c = &http.Client{Timeout: 10 * time.Second}
		}
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			return fmt.Errorf("webhook answered %s", resp.Status)
		}
		return nil
	}
	return fmt.Errorf("unknown channel %q", n.Channel)
}

// sanitizeHeader keeps a templated subject from injecting headers.
func sanitizeHeader(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// Deliver sends due notifications until none is left, retrying failures
// with exponential backoff. It returns how many were sent.
func (m *Mailer) Deliver(ctx context.Context, s warehouse.Store, owner string) (int, error) {
	maxAttempts := m.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 8
	}
	backoff := m.Backoff
	if backoff <= 0 {
		backoff = 5 * time.Second
	}
	sent := 0
	for {
		ns, err := s.ClaimNotifications(ctx, owner, 20, time.Minute)
		if err != nil || len(ns) == 0 {
			return sent, err
		}
		for i := range ns {
			n := &ns[i]
			if err := m.send(ctx, n); err != nil {
				n.LastError = err.Error()
				n.Status = "pending"
				if n.Attempts >= maxAttempts {
					n.Status = "failed"
				}
				next := time.Now().Add(backoff << min(n.Attempts-1, 10))
				n.AttemptAfter = &next
			} else {
				n.Status, n.LastError, n.AttemptAfter = "sent", "", nil
				sent++
			}
			if err := s.FinishNotification(ctx, *n); err != nil {
				return sent, err
			}
		}
	}
}
