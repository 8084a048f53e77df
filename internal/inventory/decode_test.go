package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/graphsim"
)

// jsonDecodeItems is how pages were decoded before the shapes: the page with
// encoding/json, each entry again into T, and again into a map of its keys.
// The shapes must agree with it.
func jsonDecodeItems[T any](body []byte) ([]T, []map[string]json.RawMessage, error) {
	var env struct {
		Value *[]json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, nil, err
	}
	if env.Value == nil {
		return nil, nil, fmt.Errorf("no value")
	}
	items := make([]T, len(*env.Value))
	keys := make([]map[string]json.RawMessage, len(*env.Value))
	for i, raw := range *env.Value {
		if err := json.Unmarshal(raw, &items[i]); err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal(raw, &keys[i]); err != nil {
			return nil, nil, err
		}
	}
	return items, keys, nil
}

// checkDecode decodes body as a page of T both ways and requires the same
// entries, the same properties reported as carried, and an error from one
// exactly when the other fails.
func checkDecode[T any](t *testing.T, body []byte) {
	want, keys, wantErr := jsonDecodeItems[T](body)
	got, has, err := decodeItems[T](body, false)
	if wantErr != nil {
		require.Error(t, err, "%q: encoding/json says %v", body, wantErr)
		return
	}
	require.NoError(t, err, "%q", body)
	require.Equal(t, want, got, "%q", body)
	s := shapeOf[T]()
	for i := range got {
		for name := range s.props {
			_, carried := keys[i][name]
			require.Equal(t, carried, has[i](name), "%q: entry %d, property %s", body, i, name)
		}
	}

	full, has, err := decodeItems[T](body, true)
	require.NoError(t, err)
	require.Equal(t, want, full)
	for i := range has {
		require.True(t, has[i]("anything"), "a full round's entries are complete")
	}
	items, err := page[T](body)
	require.NoError(t, err)
	require.Equal(t, want, items)
}

func checkDecodeAll(t *testing.T, body []byte) {
	checkDecode[userItem](t, body)
	checkDecode[graph.Group](t, body)
	checkDecode[graph.User](t, body)
	checkDecode[licenseItem](t, body)
}

var decodeSeeds = []string{
	`{"value":[]}`, `{"value":[null]}`, `{"value":[{}]}`, `null`, `{}`, `{"value":null}`, `{"value":{}}`, `[]`,
	`{"value":[{"id":"a","displayName":null,"department":"d","accountEnabled":null}]}`,
	`{"value":[{"id":"a\u00e9\ud83d\ude00\ud83d","displayName":"\\\"\/\b\f\n\r\t","mail":"caf` + "\xc3\xa9\xff" + `"}]}`,
	`{"value":[{"ID":"upper","DisplayName":"folded","displayNAME":"folded twice","@Removed":{"REASON":"x"}}]}`,
	`{"value":[{"id":"a","id":"b","otherMails":["x","y"],"otherMails":[null]}]}`,
	`{"value":[{"onPremisesExtensionAttributes":{"extensionAttribute1":"a"},"onPremisesExtensionAttributes":{"extensionAttribute2":"b"}}]}`,
	`{"value":[{"assignedLicenses":[{"skuId":"a","disabledPlans":["p"]},{"skuId":"b"}],"assignedLicenses":[{"skuId":"c"}]}]}`,
	`{"value":[{"members@delta":[{"id":"m","@removed":{"reason":"deleted"}},null,{"@odata.type":"#microsoft.graph.user"}]}]}`,
	`{"value":[{"manager@delta":[{"id":"m"}],"manager@delta":null,"licenseProcessingState":null}]}`,
	`{"value":[{"createdDateTime":"2024-02-29T23:59:59.999999999+05:30","employeeHireDate":null}]}`,
	`{"value":[{"id":"a"}],"value":[{"displayName":"b"},{}]}`, `{"value":[{"id":"a"}],"value":null}`,
	`{"VALUE":[{"id":"a"}]}`, `{"value":[{"id":"a"}],"@odata.nextLink":"n","@odata.count":3}`,
	// Malformed pages and entries of the wrong kind.
	`{"value":[{"id":5}]}`, `{"value":[{"id":"a",}]}`, `{"value":[{"id":"a"}]`, `{"value":[{"id":"a"}]} x`,
	`{"value":[{"accountEnabled":"true"}]}`, `{"value":[{"otherMails":"x"}]}`, `{"value":[{"otherMails":[1]}]}`,
	`{"value":[{"signInActivity":[]}]}`, `{"value":[{"createdDateTime":"yesterday"}]}`, `{"value":[{"createdDateTime":5}]}`,
	`{"value":[{"createdDateTime":"2024-01-01T00:00:00\u005a"}]}`, `{"value":[1]}`, `{"value":["x"]}`, `{"value":[[]]}`,
	`{"value":[{"id":"\x"}]}`, `{"value":[{"id":"a` + "\n" + `"}]}`, ``, `{"value":[{"@removed":"gone"}]}`,
}

func readTestdata(t testing.TB) map[string][]byte {
	names, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	pages := map[string][]byte{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		pages[name] = b
	}
	return pages
}

func TestDecodeAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, body := range readTestdata(t) {
		checkDecodeAll(t, body)
	}
	for _, s := range decodeSeeds {
		checkDecodeAll(t, []byte(s))
	}
}

// FuzzDecode: whatever a page holds, decoding it never panics, fails exactly
// when encoding/json fails, and otherwise gives what encoding/json gives.
func FuzzDecode(f *testing.F) {
	for _, body := range readTestdata(f) {
		f.Add(body)
	}
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkDecodeAll(t, body)
	})
}

// The delta cases the processor relies on, spelled out.
func TestDecodeDeltaEntries(t *testing.T) {
	t.Parallel()
	body := readTestdata(t)[filepath.Join("testdata", "users-delta.json")]
	users, has, err := decodeItems[userItem](body, false)
	require.NoError(t, err)
	require.Len(t, users, 4)
	require.Equal(t, "Renée François 😀", users[1].DisplayName)
	require.Equal(t, "Renée \"R\" \\ / \t", users[1].GivenName)
	require.True(t, has[1]("department"), "a property cleared to null was carried")
	require.Empty(t, users[1].Department)
	require.False(t, has[1]("mail"), "an absent property was not")
	require.Equal(t, []graph.DirectoryObject{{ODataType: graph.TypeUser, ID: "6a969d9e-405d-40f8-878a-e0f0956e8176",
		Removed: &graph.Removed{Reason: "deleted"}}}, users[1].ManagerDelta)
	require.Equal(t, &graph.Removed{Reason: "changed"}, users[2].Removed)
	require.True(t, has[3]("manager@delta"))
	require.Equal(t, []graph.DirectoryObject{}, users[3].ManagerDelta, "[] means no manager any more")
	require.False(t, has[2]("manager@delta"))

	groups, has, err := decodeItems[graph.Group](readTestdata(t)[filepath.Join("testdata", "groups-delta.json")], false)
	require.NoError(t, err)
	require.Len(t, groups, 4)
	require.True(t, carriesGroupProperties(has[0]))
	require.False(t, carriesGroupProperties(has[2]), "an entry with only members@delta changes no property")
	require.Len(t, groups[2].MembersDelta, 2)
	require.NotNil(t, groups[2].MembersDelta[0].Removed)
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]string{
		`{"value":[{"id":5}]}`:                        "malformed page: offset 16: expected string, found number",
		`{"value":[{"id":"a"}`:                        "malformed page: offset 20: unexpected end of JSON input",
		`{"@odata.nextLink":"x"}`:                     `malformed page: no "value"`,
		`{"value":[{"createdDateTime":"yesterday"}]}`: "malformed page: offset 40: parsing time",
	} {
		_, _, err := decodeItems[userItem]([]byte(body), false)
		require.ErrorContains(t, err, want, body)
	}
}

// jsonNames lists the JSON property names of a struct type, with those of
// embedded structs, as encoding/json sees them.
func jsonNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			names = append(names, jsonNames(f.Type)...)
			continue
		}
		names = append(names, name)
	}
	return names
}

func shapeNames[T any](s *shape[T]) []string {
	var names []string
	for _, n := range s.names {
		names = append(names, string(n))
	}
	return names
}

// Every shape reads every property of its type, so a property added to a
// graph type cannot be silently dropped by the inventory.
func TestShapesNameEveryProperty(t *testing.T) {
	t.Parallel()
	check := func(typ reflect.Type, names []string) {
		want := jsonNames(typ)
		slices.Sort(want)
		slices.Sort(names)
		require.Equal(t, want, names, typ.String())
	}
	check(reflect.TypeFor[userItem](), shapeNames(userItemShape))
	check(reflect.TypeFor[graph.User](), shapeNames(userShape))
	check(reflect.TypeFor[graph.Group](), shapeNames(groupShape))
	check(reflect.TypeFor[licenseItem](), shapeNames(licenseItemShape))
	check(reflect.TypeFor[graph.DirectoryObject](), shapeNames(directoryObjectShape))
	check(reflect.TypeFor[graph.Removed](), shapeNames(removedShape))
	check(reflect.TypeFor[graph.AssignedLicense](), shapeNames(assignedLicenseShape))
	check(reflect.TypeFor[graph.AssignedPlan](), shapeNames(assignedPlanShape))
	check(reflect.TypeFor[graph.ProvisionedPlan](), shapeNames(provisionedPlanShape))
	check(reflect.TypeFor[graph.LicenseAssignmentState](), shapeNames(licenseStateShape))
	check(reflect.TypeFor[graph.SignInActivity](), shapeNames(signInShape))
	check(reflect.TypeFor[graph.OnPremisesExtensionAttributes](), shapeNames(extensionAttributesShape))
	check(reflect.TypeFor[graph.LicenseProcessingState](), shapeNames(licenseProcessingShape))
}

// fill gives every field of v a distinct non-zero value.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", *n))
	case reflect.Bool:
		v.SetBool(*n%2 == 0)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		fill(v.Index(0), n)
		fill(v.Index(1), n)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2020, 1, 1, 0, 0, *n, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i), n)
		}
	default:
		panic(v.Kind())
	}
}

// A shape reads each property into its own field: an entry with every
// property set decodes back to itself.
func TestDecodeEveryProperty(t *testing.T) {
	t.Parallel()
	n := 0
	var u userItem
	var g graph.Group
	fill(reflect.ValueOf(&u).Elem(), &n)
	fill(reflect.ValueOf(&g).Elem(), &n)
	for _, v := range []any{u, g} {
		body, err := json.Marshal(map[string]any{"value": []any{v}})
		require.NoError(t, err)
		checkDecodeAll(t, body)
		switch v := v.(type) {
		case userItem:
			got, err := page[userItem](body)
			require.NoError(t, err)
			require.Equal(t, []userItem{v}, got)
		case graph.Group:
			got, err := page[graph.Group](body)
			require.NoError(t, err)
			require.Equal(t, []graph.Group{v}, got)
		}
	}
}

// samplePages fetches what a full sync of a 2,000-user simulated tenant
// stores and keeps the first page of each resource: 999 users of the users
// round, a groups/delta page with its members, 999 licensed users.
func samplePages(b *testing.B) map[string][]byte {
	sim, err := graphsim.Start(graphsim.Config{Users: 2000, Seed: 42, TimeScale: 1000, Budget: &graphsim.Budget{}})
	require.NoError(b, err)
	b.Cleanup(func() { sim.Close() })
	info := sim.Info()
	c, err := graph.New(graph.Config{TenantID: info.TenantID, ClientID: info.ClientID, ClientSecret: info.ClientSecret,
		GraphURL: info.GraphURL, AuthorityHost: info.AuthorityURL, CAFile: info.CAFile})
	require.NoError(b, err)
	var mu sync.Mutex
	pages := map[string][]byte{}
	r := &run{c: c, opt: Options{Full: true}, log: slog.New(slog.DiscardHandler), links: map[string]string{}, full: map[string]bool{},
		licFull: true}
	r.sink = func(_ context.Context, resource, _ string, seq int, body []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if seq == 1 {
			pages[resource] = body
		}
		return nil
	}
	require.NoError(b, r.fetchAll(context.Background()).Wait())
	return pages
}

// BenchmarkDecode measures decoding a stored page of each kind the way a sync
// does, in one pass, and the way it did with encoding/json. Incremental
// rounds also learn which properties each entry carried; the benchmark runs
// a full round's page as if it were incremental, the worst case.
//
//	go test ./internal/inventory -run '^$' -bench Decode
func BenchmarkDecode(b *testing.B) {
	pages := samplePages(b)
	bench := func(name string, body []byte, decode func([]byte) error) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := decode(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, full := range []bool{true, false} {
		round := map[bool]string{true: "full", false: "incremental"}[full]
		bench("users/"+round+"/one-pass", pages[ResUsers], func(body []byte) error {
			_, _, err := decodeItems[userItem](body, full)
			return err
		})
		bench("users/"+round+"/encoding-json", pages[ResUsers], jsonDecode[userItem](full))
		bench("groups/"+round+"/one-pass", pages[ResGroups], func(body []byte) error {
			_, _, err := decodeItems[graph.Group](body, full)
			return err
		})
		bench("groups/"+round+"/encoding-json", pages[ResGroups], jsonDecode[graph.Group](full))
	}
	bench("licenses/one-pass", pages[ResLicenses], func(body []byte) error {
		_, err := page[licenseItem](body)
		return err
	})
	bench("licenses/encoding-json", pages[ResLicenses], jsonDecode[graph.User](true))
}

// jsonDecode decodes a page as the inventory did before the shapes: in one
// json.Unmarshal for a full round, entry by entry and again into maps of
// keys for an incremental one.
func jsonDecode[T any](full bool) func([]byte) error {
	if !full {
		return func(body []byte) error {
			_, _, err := jsonDecodeItems[T](body)
			return err
		}
	}
	return func(body []byte) error {
		var env struct {
			Value *[]T `json:"value"`
		}
		return json.Unmarshal(body, &env)
	}
}

// Every property of the shapes a sync decodes pages with is found by its
// exact name, and nothing else is.
func TestShapeLookup(t *testing.T) {
	t.Parallel()
	check := func(names [][]byte, lookup func([]byte) (string, bool)) {
		for _, n := range names {
			got, ok := lookup(n)
			require.True(t, ok, "%s", n)
			require.Equal(t, string(n), got)
			for _, other := range [][]byte{append(slices.Clone(n), 'x'), n[:len(n)-1], bytes.ToUpper(n)} {
				if got, ok := lookup(other); ok {
					require.Equal(t, string(other), got, "%s", other)
				}
			}
		}
		_, ok := lookup(nil)
		require.False(t, ok)
	}
	check(userItemShape.names, func(k []byte) (string, bool) { p, ok := userItemShape.lookup(k); return p.name, ok })
	check(groupShape.names, func(k []byte) (string, bool) { p, ok := groupShape.lookup(k); return p.name, ok })
	check(licenseItemShape.names, func(k []byte) (string, bool) { p, ok := licenseItemShape.lookup(k); return p.name, ok })
	check(extensionAttributesShape.names, func(k []byte) (string, bool) {
		p, ok := extensionAttributesShape.lookup(k)
		return p.name, ok
	})
}
