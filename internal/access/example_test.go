package access_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/warehouse"
)

// A license manager delegated one pool may change that pool and nothing
// else; the same Check answers for API routes, console pages and the
// request pipeline.
func ExampleService_Check() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "allot-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store, err := warehouse.Open(ctx, filepath.Join(dir, "allot.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	_ = store.CreateTenant(ctx, directory.Tenant{ID: "t1", Name: "contoso", GraphURL: "https://graph.microsoft.com/v1.0",
		AuthorityURL: "https://login.microsoftonline.com/", ClientID: "app", SecretRef: "env:SECRET"})

	svc := &access.Service{Store: store}
	_, _, _ = svc.CreatePrincipal(ctx, "setup", access.NewPrincipal{Name: "maria", Password: "a long passphrase"})
	_, _ = svc.Grant(ctx, "setup", "maria", access.LicenseManager, access.Scope{TenantID: "t1", Pool: "E5"})

	maria, _ := svc.Load(ctx, "maria")
	fmt.Println(svc.Check(ctx, maria, access.WritePolicy, access.Scope{TenantID: "t1", Pool: "E5"}))
	err = svc.Check(ctx, maria, access.WritePolicy, access.Scope{TenantID: "t1", Pool: "E3"})
	fmt.Println(errors.Is(err, access.ErrForbidden), err)
	// Output:
	// <nil>
	// true maria may not policy.write on pool E3 of tenant t1
}
