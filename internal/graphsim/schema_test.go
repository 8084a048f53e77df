package graphsim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// csdl is the subset of Graph's v1.0 metadata in testdata/graph-schemas.
type csdl struct {
	Types map[string]struct {
		Kind       string `json:"kind"`
		BaseType   string `json:"baseType"`
		Members    any    `json:"members"`
		Properties map[string]struct {
			Type     string `json:"type"`
			Nullable *bool  `json:"nullable"`
		} `json:"properties"`
	} `json:"types"`
}

type csdlProp struct {
	typ      string
	nullable bool
}

func loadCSDL(t *testing.T) *csdl {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "graph-schemas", "csdl-subset.json"))
	require.NoError(t, err)
	var c csdl
	require.NoError(t, json.Unmarshal(raw, &c))
	return &c
}

// props returns a type's properties including those of its base types.
func (c *csdl) props(t *testing.T, typ string) map[string]csdlProp {
	t.Helper()
	out := map[string]csdlProp{}
	for typ != "" {
		def, ok := c.Types[typ]
		require.True(t, ok, "type %s not in the CSDL subset", typ)
		for n, p := range def.Properties {
			if _, seen := out[n]; !seen {
				out[n] = csdlProp{typ: p.Type, nullable: p.Nullable == nil || *p.Nullable}
			}
		}
		typ = def.BaseType
	}
	return out
}

// checkObject asserts every property of obj is declared on typ with the
// JSON type its Edm type maps to. Annotations (keys with @) are skipped.
func (c *csdl) checkObject(t *testing.T, where, typ string, obj map[string]any) {
	t.Helper()
	props := c.props(t, typ)
	for k, v := range obj {
		if strings.Contains(k, "@") {
			continue
		}
		p, ok := props[k]
		require.True(t, ok, "%s: property %q is not declared on %s", where, k, typ)
		c.checkValue(t, where+"."+k, p, v)
	}
}

func (c *csdl) checkValue(t *testing.T, where string, p csdlProp, v any) {
	t.Helper()
	if inner, ok := strings.CutPrefix(p.typ, "Collection("); ok {
		arr, ok := v.([]any)
		require.True(t, ok, "%s: %s must be an array, got %T", where, p.typ, v)
		for _, e := range arr {
			c.checkValue(t, where+"[]", csdlProp{typ: strings.TrimSuffix(inner, ")"), nullable: true}, e)
		}
		return
	}
	if v == nil {
		require.True(t, p.nullable, "%s: %s is not nullable but is null", where, p.typ)
		return
	}
	switch p.typ {
	case "Edm.String":
		require.IsType(t, "", v, where)
	case "Edm.Guid":
		require.IsType(t, "", v, where)
		require.True(t, isGUID(v.(string)), "%s: %q is not a GUID", where, v)
	case "Edm.DateTimeOffset":
		require.IsType(t, "", v, where)
		_, err := time.Parse(time.RFC3339, v.(string))
		require.NoError(t, err, where)
	case "Edm.Boolean":
		require.IsType(t, true, v, where)
	case "Edm.Int32", "Edm.Int64", "Edm.Double":
		require.IsType(t, float64(0), v, where)
	default:
		def, ok := c.Types[p.typ]
		require.True(t, ok, "%s: unknown type %s", where, p.typ)
		if def.Kind == "EnumType" {
			require.IsType(t, "", v, where)
			return
		}
		obj, ok := v.(map[string]any)
		require.True(t, ok, "%s: %s must be an object, got %T", where, p.typ, v)
		c.checkObject(t, where, p.typ, obj)
	}
}

// Every property the simulator returns exists, with the right JSON type, in
// Graph's v1.0 metadata.
func TestResponsesMatchCSDL(t *testing.T) {
	t.Parallel()
	c := loadCSDL(t)
	h := setup(t, Config{Users: 200})
	var userSel, groupSel []string
	for _, p := range userProps.all {
		if !p.listUnsupported {
			userSel = append(userSel, p.name)
		}
	}
	for _, p := range groupProps.all {
		groupSel = append(groupSel, p.name)
	}
	me := h.firstUser(func(u *user) bool { return len(u.licenses) > 1 && u.manager >= 0 })
	for _, tc := range []struct {
		path, typ string
		single    bool
	}{
		{"/users?$top=500&$select=" + strings.Join(userSel, ","), "microsoft.graph.user", false},
		{"/users?$top=20", "microsoft.graph.user", false},
		{"/users/" + me.id + "?$select=mailboxSettings,aboutMe,hireDate,signInActivity,licenseAssignmentStates", "microsoft.graph.user", true},
		{"/groups?$top=999&$select=" + strings.Join(groupSel, ","), "microsoft.graph.group", false},
		{"/groups?$top=50", "microsoft.graph.group", false},
		{"/subscribedSkus", "microsoft.graph.subscribedSku", false},
		{"/users/" + me.id + "/licenseDetails", "microsoft.graph.licenseDetails", false},
		{"/users/delta?$select=" + strings.Join(userSel, ","), "microsoft.graph.user", false},
		{"/groups/delta", "microsoft.graph.group", false},
		{"/users/" + me.id + "/memberOf", "microsoft.graph.group", false},
	} {
		r := h.call("GET", tc.path, nil)
		require.Equal(t, 200, r.status, "%s: %s", tc.path, r.raw)
		if tc.single {
			c.checkObject(t, tc.path, tc.typ, r.body)
			continue
		}
		require.NotEmpty(t, r.values(), tc.path)
		for _, v := range r.values() {
			c.checkObject(t, tc.path, tc.typ, v)
		}
	}
	// Polymorphic member lists: each item is checked against its @odata.type.
	r := h.call("GET", "/groups/"+h.groupNamed("LIC - Power BI Pro")+"/members?$top=999", nil)
	require.Equal(t, 200, r.status)
	for _, v := range r.values() {
		c.checkObject(t, "members", "microsoft.graph."+strings.TrimPrefix(v["@odata.type"].(string), "#microsoft.graph."), v)
	}
}
