package workflow

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/allot-dev/allot/internal/rule"
	"github.com/allot-dev/allot/internal/warehouse"
)

// DefaultPriority is the priority of a definition that names none.
const DefaultPriority = 500

// Definition is a workflow: when it starts and what it does.
type Definition struct {
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	// Priority orders matched workflows: lower runs first, ties by name.
	// Zero means DefaultPriority.
	Priority   int        `json:"priority,omitempty"`
	When       Conditions `json:"when"`
	Activities []Activity `json:"activities"`
}

// Conditions are a workflow's start conditions. Empty lists match anything;
// all given conditions must hold.
type Conditions struct {
	Operations  []Operation  `json:"operations,omitempty"`
	TargetTypes []TargetType `json:"targetTypes,omitempty"`
	Origins     []Origin     `json:"origins,omitempty"`
	// Filter is an Entra membership rule evaluated against the request's
	// user (user.department -eq "Sales"): Entra rules describe users.
	Filter string `json:"filter,omitempty"`
	// RemovalApproval limits the workflow to requests from pools that
	// require approval of removals.
	RemovalApproval bool `json:"removalApproval,omitempty"`
}

// Activity kinds.
const (
	KindApproval = "approval"
	KindNotify   = "notify"
	KindIf       = "if"
	KindStop     = "stop"
)

// Phases of an activity.
const (
	PreRun  = "pre"
	PostRun = "post"
)

// Approver sources.
const (
	ApproverDelegation = "delegation" // principals with an approver delegation for the scope
	ApproverOwner      = "owner"      // the target group's owners
)

// Activity is one step of a workflow. Kind selects which fields apply.
type Activity struct {
	Kind string `json:"kind"`
	// Phase is pre (default) or post; only notifications run post-run.
	Phase string `json:"phase,omitempty"`

	// approval
	Approvers string `json:"approvers,omitempty"` // delegation (default) or owner
	// DenyIfNone denies the request when nobody can approve it; otherwise
	// such a request waits for a delegation to be granted.
	DenyIfNone bool `json:"denyIfNone,omitempty"`
	// Bulk sends the request's changes to the queue as pending approval,
	// for the removal-approval job to route in batches (removals only).
	Bulk bool `json:"bulk,omitempty"`

	// notify: To lists "requester", "approvers", "owners", "user" or email
	// addresses; Subject and Body are text/template templates over
	// NoteData. Webhook, when set, receives a JSON POST as well.
	To      []string `json:"to,omitempty"`
	Subject string   `json:"subject,omitempty"`
	Body    string   `json:"body,omitempty"`
	Webhook string   `json:"webhook,omitempty"`

	// if: Rule is an Entra membership rule on the request's user.
	Rule string     `json:"rule,omitempty"`
	Then []Activity `json:"then,omitempty"`
	Else []Activity `json:"else,omitempty"`

	// stop: ends the workflow's remaining activities; Deny also denies the
	// request with Reason.
	Deny   bool   `json:"deny,omitempty"`
	Reason string `json:"reason,omitempty"`
}

func (a *Activity) phase() string {
	if a.Phase == "" {
		return PreRun
	}
	return a.Phase
}

// DefinitionError names the definition and the place in it that is wrong.
type DefinitionError struct {
	Workflow string
	Field    string
	Err      error
}

func (e *DefinitionError) Error() string {
	return fmt.Sprintf("workflow %q: %s: %v", e.Workflow, e.Field, e.Err)
}

func (e *DefinitionError) Unwrap() error { return e.Err }

// Validate checks a definition, compiling its rules, so a bad one is
// refused when saved rather than failing requests later.
func (d *Definition) Validate() error {
	bad := func(field string, err error) error { return &DefinitionError{Workflow: d.Name, Field: field, Err: err} }
	if d.Name == "" {
		return bad("name", fmt.Errorf("%w: is required", ErrInvalidRequest))
	}
	for i, op := range d.When.Operations {
		if !slices.Contains(operations, op) {
			return bad(fmt.Sprintf("when.operations[%d]", i), fmt.Errorf("unknown operation %q", op))
		}
	}
	for i, o := range d.When.Origins {
		if !slices.Contains(origins, o) {
			return bad(fmt.Sprintf("when.origins[%d]", i), fmt.Errorf("unknown origin %q", o))
		}
	}
	for i, tt := range d.When.TargetTypes {
		if tt != TargetUser && tt != TargetGroup {
			return bad(fmt.Sprintf("when.targetTypes[%d]", i), fmt.Errorf("unknown target type %q", tt))
		}
	}
	if d.When.Filter != "" {
		if _, err := compileRule(d.When.Filter); err != nil {
			return bad("when.filter", err)
		}
	}
	return validateActivities(d.Activities, "activities", bad)
}

func validateActivities(as []Activity, path string, bad func(string, error) error) error {
	for i := range as {
		a := &as[i]
		at := fmt.Sprintf("%s[%d]", path, i)
		if a.Phase != "" && a.Phase != PreRun && a.Phase != PostRun {
			return bad(at+".phase", fmt.Errorf("%q is not pre or post", a.Phase))
		}
		if a.phase() == PostRun && a.Kind != KindNotify {
			return bad(at+".phase", fmt.Errorf("only notifications run post-run, not %s", a.Kind))
		}
		switch a.Kind {
		case KindApproval:
			if a.Approvers != "" && a.Approvers != ApproverDelegation && a.Approvers != ApproverOwner {
				return bad(at+".approvers", fmt.Errorf("%q is not delegation or owner", a.Approvers))
			}
			if a.Bulk && a.Approvers == ApproverOwner {
				return bad(at+".bulk", fmt.Errorf("bulk approval routes to delegated approvers, not owners"))
			}
		case KindNotify:
			if len(a.To) == 0 && a.Webhook == "" {
				return bad(at, fmt.Errorf("a notification needs recipients (to) or a webhook"))
			}
			if _, err := parseTemplates(a); err != nil {
				return bad(at, err)
			}
		case KindIf:
			if _, err := compileRule(a.Rule); err != nil {
				return bad(at+".rule", err)
			}
			if err := validateActivities(a.Then, at+".then", bad); err != nil {
				return err
			}
			if err := validateActivities(a.Else, at+".else", bad); err != nil {
				return err
			}
		case KindStop:
		default:
			return bad(at+".kind", fmt.Errorf("%q is not approval, notify, if or stop", a.Kind))
		}
	}
	return nil
}

func compileRule(src string) (*rule.Program, error) {
	r, err := rule.Parse(src)
	if err != nil {
		return nil, err
	}
	return rule.Compile(r)
}

// Built-in definition names.
const (
	BuiltinRemovalApproval = "license removal needs approval"
	BuiltinGroupOwner      = "group owner approves additions"
)

// Builtins are the definitions every tenant has until it stores one of the
// same name (to change or disable it):
//
//   - removals proposed by pools that require approval wait for the
//     pool's approvers (routed in batches by the removal-approval job);
//   - a request to add a user to a group from the IT shop or the API is
//     denied when the group has no owner, else asks the owner, and the
//     requester hears when it is done. Pools, SCIM and the wizard are
//     exempt: their own policies already decided.
func Builtins() []Definition {
	return []Definition{
		{
			Name: BuiltinRemovalApproval, Enabled: true, Priority: 100,
			When: Conditions{Operations: []Operation{RemoveLicense, RemoveGroupMember}, Origins: []Origin{FromPool},
				RemovalApproval: true},
			Activities: []Activity{{Kind: KindApproval, Approvers: ApproverDelegation, Bulk: true}},
		},
		{
			Name: BuiltinGroupOwner, Enabled: true, Priority: DefaultPriority,
			When: Conditions{Operations: []Operation{AddGroupMember}, Origins: []Origin{FromShop, FromAPI}},
			Activities: []Activity{
				{Kind: KindApproval, Approvers: ApproverOwner, DenyIfNone: true},
				{Kind: KindNotify, Phase: PostRun, To: []string{"requester"},
					Subject: "Done: {{.User.DisplayName}} added to {{.Group.DisplayName}}",
					Body: "Your request {{.Request.ID}} to add {{.User.DisplayName}} to {{.Group.DisplayName}} " +
						"was approved and has been applied.\n"},
			},
		},
	}
}

// SaveDefinition validates and stores a definition for a tenant.
func SaveDefinition(ctx context.Context, w warehouse.Writer, tenantID string, d Definition) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if d.Priority == 0 {
		d.Priority = DefaultPriority
	}
	spec, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = w.PutWorkflow(ctx, warehouse.WorkflowRecord{TenantID: tenantID, Name: d.Name, Enabled: d.Enabled,
		Priority: d.Priority, Spec: spec})
	return err
}

// Definitions returns a tenant's effective definitions — stored ones, plus
// built-ins not overridden by name — in run order: priority ascending, ties
// by name ascending.
func Definitions(ctx context.Context, r warehouse.Reader, tenantID string) ([]Definition, error) {
	recs, err := r.ListWorkflows(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("load workflows: %w", err)
	}
	var out []Definition
	stored := map[string]bool{}
	for _, rec := range recs {
		var d Definition
		if err := json.Unmarshal(rec.Spec, &d); err != nil {
			return nil, fmt.Errorf("stored workflow %q is corrupt: %w", rec.Name, err)
		}
		d.Name, d.Enabled, d.Priority = rec.Name, rec.Enabled, rec.Priority
		stored[d.Name] = true
		out = append(out, d)
	}
	for _, b := range Builtins() {
		if !stored[b.Name] {
			out = append(out, b)
		}
	}
	sortDefinitions(out)
	return out, nil
}

func sortDefinitions(ds []Definition) {
	prio := func(d *Definition) int {
		if d.Priority == 0 {
			return DefaultPriority
		}
		return d.Priority
	}
	slices.SortStableFunc(ds, func(a, b Definition) int {
		return cmp.Or(cmp.Compare(prio(&a), prio(&b)), cmp.Compare(a.Name, b.Name))
	})
}
