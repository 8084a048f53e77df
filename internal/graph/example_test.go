package graph_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/allot-dev/allot/internal/graph"
	"github.com/allot-dev/allot/internal/graphsim"
)

// Example lists a tenant's users page by page: each page arrives as the raw
// JSON Graph sent (to store) and as decoded users (to use).
func Example() {
	sim, err := graphsim.Start(graphsim.Config{Users: 1500, Seed: 7})
	if err != nil {
		log.Fatal(err)
	}
	defer sim.Close()
	info := sim.Info()

	c, err := graph.New(graph.Config{
		TenantID:      info.TenantID,
		ClientID:      info.ClientID,
		ClientSecret:  info.ClientSecret,
		GraphURL:      info.GraphURL,
		AuthorityHost: info.AuthorityURL,
		CAFile:        info.CAFile,
		Limits:        graph.Limits{Concurrency: 4, RequestsPerSecond: 200},
	})
	if err != nil {
		log.Fatal(err)
	}
	total := 0
	err = c.ListUsers(context.Background(), graph.UserListOptions{Select: []string{"id", "userPrincipalName", "assignedLicenses"}},
		func(p *graph.Page, users []graph.User) error {
			fmt.Printf("page %d: %d users, %v raw bytes kept\n", p.Number, len(users), len(p.Body) > 0)
			total += len(users)
			return nil
		})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("users:", total)
	// Output:
	// page 1: 999 users, true raw bytes kept
	// page 2: 501 users, true raw bytes kept
	// users: 1500
}

// ExampleClient_UsersDelta shows the delta cycle: a full round, then rounds
// from the saved deltaLink, and a full resync when the link has expired.
func ExampleClient_UsersDelta() {
	sim, err := graphsim.Start(graphsim.Config{Users: 200, Seed: 7})
	if err != nil {
		log.Fatal(err)
	}
	defer sim.Close()
	c := exampleClient(sim)
	ctx := context.Background()

	count := func(n *int) graph.PageFunc[graph.User] {
		return func(_ *graph.Page, users []graph.User) error { *n += len(users); return nil }
	}
	sel := []string{"id", "department"}
	var full int
	link, err := c.UsersDelta(ctx, graph.DeltaOptions{Select: sel}, count(&full))
	if err != nil {
		log.Fatal(err)
	}
	_ = sim.SetDepartment(sim.Users()[0].ID, "Moved")
	var changed int
	link, err = c.UsersDelta(ctx, graph.DeltaOptions{Link: link}, count(&changed))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("full round:", full, "then changed:", changed)

	sim.ExpireDeltaTokens()
	_, err = c.UsersDelta(ctx, graph.DeltaOptions{Link: link}, count(new(int)))
	if errors.Is(err, graph.ErrDeltaExpired) {
		fmt.Println("expired: start a new full round")
	}
	// Output:
	// full round: 200 then changed: 1
	// expired: start a new full round
}

func exampleClient(sim *graphsim.Server) *graph.Client {
	info := sim.Info()
	c, err := graph.New(graph.Config{TenantID: info.TenantID, ClientID: info.ClientID, ClientSecret: info.ClientSecret,
		GraphURL: info.GraphURL, AuthorityHost: info.AuthorityURL, CAFile: info.CAFile})
	if err != nil {
		log.Fatal(err)
	}
	return c
}
