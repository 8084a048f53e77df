package graphsim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// exchangeError writes the Exchange admin API error shape: the exception
// type between bars, then the message, as Exchange Online PowerShell shows.
func exchangeError(w http.ResponseWriter, status int, exception, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code":    "BadRequest",
		"message": "|" + exception + "|" + msg,
	}})
}

// serveExchange is Exchange Online's POST /adminapi/beta/{tenant}/InvokeCommand
// (graph.md §8): Get-Mailbox and Set-Mailbox -Type Shared|Regular, the only
// way to convert a leaver's mailbox to shared.
func (s *Server) serveExchange(w http.ResponseWriter, r *http.Request) {
	ri := s.newReqInfo(r)
	ri.source = "exchange"
	w.Header().Set("request-id", ri.requestID)
	app, ge := s.authenticate(r, audExchange)
	if ge != nil {
		writeError(w, ri, ge)
		return
	}
	if !s.knownTenant(r.PathValue("tenant")) {
		exchangeError(w, http.StatusNotFound, "Microsoft.Exchange.Management.Tasks.TenantNotFoundException", "The tenant was not found.")
		return
	}
	if !hasAnyRole(app.Roles, []string{"Exchange.ManageAsApp"}) {
		writeError(w, ri, gerr(http.StatusForbidden, "Forbidden", "The role assigned to application %s isn't supported in this scenario.", app.ClientID))
		return
	}
	var body struct {
		CmdletInput struct {
			CmdletName string         `json:"CmdletName"`
			Parameters map[string]any `json:"Parameters"`
		} `json:"CmdletInput"`
	}
	if ge := decodeJSON(r, &body); ge != nil {
		writeError(w, ri, ge)
		return
	}
	params := map[string]string{}
	for k, v := range body.CmdletInput.Parameters {
		switch x := v.(type) {
		case string:
			params[strings.ToLower(k)] = x
		case bool:
			params[strings.ToLower(k)] = strconv.FormatBool(x)
		case float64:
			params[strings.ToLower(k)] = strconv.FormatFloat(x, 'f', -1, 64)
		}
	}
	ctx := "https://outlook.office365.com/adminapi/beta/" + s.t.id + "/$metadata#Collection(Exchange.GenericHashTable)"
	switch strings.ToLower(body.CmdletInput.CmdletName) {
	case "get-mailbox", "get-exomailbox":
		s.getMailbox(w, r, params, ctx)
	case "set-mailbox":
		s.setMailbox(w, ri, params, ctx)
	case "":
		exchangeError(w, http.StatusBadRequest, "System.ArgumentException", "CmdletInput.CmdletName is required.")
	default:
		exchangeError(w, http.StatusBadRequest, "System.Management.Automation.CommandNotFoundException",
			"The term '"+body.CmdletInput.CmdletName+"' is not recognized as a name of a cmdlet.")
	}
}

// resolveMailbox finds a mailbox by object id, UPN, primary SMTP address or
// alias. Caller holds the lock.
func (t *tenant) resolveMailbox(identity string) (int32, bool) {
	if i, ok := t.lookupUser(identity); ok && t.users[i].mailbox != mbNone {
		return i, true
	}
	for i := range t.users {
		u := &t.users[i]
		if u.mailbox != mbNone && !u.deleted && (strings.EqualFold(u.mail, identity) || strings.EqualFold(u.mailNickname, identity)) {
			return int32(i), true
		}
	}
	return 0, false
}

func mailboxKind(k uint8) string {
	if k == mbShared {
		return "SharedMailbox"
	}
	return "UserMailbox"
}

func (s *Server) renderMailbox(e *enc, i int32) {
	u := &s.t.users[i]
	e.open()
	e.kv("Identity", u.mailNickname)
	e.kv("Alias", u.mailNickname)
	e.kv("DisplayName", u.displayName)
	e.kv("Name", u.mailNickname)
	e.kv("UserPrincipalName", u.upn)
	e.kv("PrimarySmtpAddress", u.mail)
	e.kv("ExternalDirectoryObjectId", u.id)
	e.kv("Guid", requestID(u.id, 42))
	e.kv("RecipientType", "UserMailbox")
	e.kv("RecipientTypeDetails", mailboxKind(u.mailbox))
	e.key("IsShared")
	e.bool(u.mailbox == mbShared)
	e.key("EmailAddresses")
	e.strs([]string{"SMTP:" + u.mail})
	e.kv("ProhibitSendReceiveQuota", "100 GB (107,374,182,400 bytes)")
	e.close()
}

const mailboxPage = 1000

func (s *Server) getMailbox(w http.ResponseWriter, r *http.Request, params map[string]string, ctx string) {
	t := s.t
	t.mu.RLock()
	defer t.mu.RUnlock()
	e := newEnc(64 << 10)
	e.open()
	e.kv("@odata.context", ctx)
	if id := params["identity"]; id != "" {
		i, ok := t.resolveMailbox(id)
		if !ok {
			exchangeError(w, http.StatusNotFound, "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
				"The operation couldn't be performed because object '"+id+"' couldn't be found on 'SIM01.PROD.OUTLOOK.COM'.")
			return
		}
		e.key("value")
		e.openArr()
		s.renderMailbox(e, i)
		e.closeArr()
		e.close()
		writeJSON(w, http.StatusOK, e.b)
		return
	}
	kind := strings.ToLower(params["recipienttypedetails"])
	start, _ := strconv.Atoi(r.URL.Query().Get("$skiptoken"))
	limit := len(t.users)
	if rs := params["resultsize"]; rs != "" && !strings.EqualFold(rs, "unlimited") {
		if n, err := strconv.Atoi(rs); err == nil && n > 0 {
			limit = n
		}
	} else if rs == "" {
		limit = 1000 // Exchange's default ResultSize
	}
	var page []int32
	seen := 0
	next := -1
	for i := range t.users {
		u := &t.users[i]
		if u.mailbox == mbNone || u.deleted || (kind != "" && strings.ToLower(mailboxKind(u.mailbox)) != kind) {
			continue
		}
		if seen >= limit {
			break
		}
		seen++
		if seen <= start {
			continue
		}
		if len(page) == mailboxPage {
			next = seen - 1
			break
		}
		page = append(page, int32(i))
	}
	if next >= 0 {
		e.kv("@odata.nextLink", s.base+r.URL.Path+"?$skiptoken="+strconv.Itoa(next))
	}
	e.key("value")
	e.openArr()
	for _, i := range page {
		s.renderMailbox(e, i)
	}
	e.closeArr()
	e.close()
	writeJSON(w, http.StatusOK, e.b)
}

func (s *Server) setMailbox(w http.ResponseWriter, ri *reqInfo, params map[string]string, ctx string) {
	id, typ := params["identity"], strings.ToLower(params["type"])
	if id == "" {
		exchangeError(w, http.StatusBadRequest, "System.Management.Automation.ParameterBindingException", "Cannot process command because of one or more missing mandatory parameters: Identity.")
		return
	}
	var want uint8
	switch typ {
	case "shared":
		want = mbShared
	case "regular":
		want = mbUser
	case "":
		exchangeError(w, http.StatusBadRequest, "System.ArgumentException", "Only -Type is supported by the simulator's Set-Mailbox.")
		return
	default:
		exchangeError(w, http.StatusBadRequest, "System.Management.Automation.ParameterBindingException",
			"Cannot bind parameter 'Type'. Cannot convert value \""+params["type"]+"\" to type \"Microsoft.Exchange.Data.Directory.Management.ConvertibleMailboxSubType\".")
		return
	}
	t := s.t
	t.mu.Lock()
	i, ok := t.resolveMailbox(id)
	if !ok {
		t.mu.Unlock()
		exchangeError(w, http.StatusNotFound, "Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException",
			"The operation couldn't be performed because object '"+id+"' couldn't be found on 'SIM01.PROD.OUTLOOK.COM'.")
		return
	}
	outcome := OutcomeDuplicate
	if t.users[i].mailbox != want {
		t.users[i].mailbox = want
		t.users[i].ver = t.bump()
		outcome = OutcomeApplied
	}
	ri.record("setMailbox", t.users[i].id, mailboxKind(want), outcome)
	t.mu.Unlock()
	s.flushWrites(ri, http.StatusOK)
	writeJSON(w, http.StatusOK, []byte(`{"@odata.context":"`+ctx+`","adminapi.warnings":[],"value":[]}`))
}
