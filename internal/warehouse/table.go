package warehouse

import (
	"fmt"
	"strings"
)

// table describes a bulk-upsertable table once, so both backends build their
// SQL from the same column list and cannot drift apart.
type table struct {
	name string
	cols []string
	key  []string
	// keep lists columns an upsert must not overwrite on conflict: attributes
	// allot owns (categories, prices, the IT-shop flag) that Graph does not send.
	keep []string
}

// upsertSuffix renders "ON CONFLICT (key) DO UPDATE SET c = excluded.c, …".
func (t table) upsertSuffix() string {
	var set []string
	for _, c := range t.cols {
		if contains(t.key, c) || contains(t.keep, c) {
			continue
		}
		set = append(set, fmt.Sprintf("%s = excluded.%s", c, c))
	}
	if len(set) == 0 {
		return " ON CONFLICT (" + strings.Join(t.key, ", ") + ") DO NOTHING"
	}
	return " ON CONFLICT (" + strings.Join(t.key, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

var (
	usersTable = table{
		name: "users",
		cols: []string{"tenant_id", "id", "user_principal_name", "display_name", "account_enabled", "categories",
			"deleted", "deleted_at", "attrs"},
		key:  []string{"tenant_id", "id"},
		keep: []string{"categories"},
	}
	groupsTable = table{
		name: "groups",
		cols: []string{"tenant_id", "id", "display_name", "mail_enabled", "security_enabled", "membership_rule",
			"is_license_group", "categories", "it_shop_only", "created_at", "deleted", "deleted_at", "attrs"},
		key:  []string{"tenant_id", "id"},
		keep: []string{"categories", "it_shop_only"},
	}
	licenseStatesTable = table{
		name: "license_states",
		cols: []string{"tenant_id", "user_id", "sku_id", "assigned_by_group", "disabled_plans", "state", "error", "last_updated"},
		key:  []string{"tenant_id", "user_id", "sku_id", "assigned_by_group"},
	}
	skusTable = table{
		name: "skus",
		cols: []string{"tenant_id", "sku_id", "sku_part_number", "display_name", "capability_status", "applies_to",
			"consumed_units", "prepaid_enabled", "prepaid_suspended", "prepaid_warning", "prepaid_locked_out",
			"service_plans", "monthly_price_cents", "currency", "categories"},
		key:  []string{"tenant_id", "sku_id"},
		keep: []string{"monthly_price_cents", "currency", "categories"},
	}
	mailboxesTable = table{
		name: "mailboxes",
		cols: []string{"tenant_id", "user_id", "primary_smtp", "type"},
		key:  []string{"tenant_id", "user_id"},
	}
)
