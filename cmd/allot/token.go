package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/warehouse"
)

func init() { register(newTokenCmd) }

func newTokenCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Create, list and revoke API tokens"}
	cmd.AddCommand(newTokenCreateCmd(c), newTokenListCmd(c), newTokenRevokeCmd(c))
	return cmd
}

func newTokenCreateCmd(c *cli) *cobra.Command {
	var nt access.NewToken
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "create --user NAME [--name N] [--scope read|*|ACTION]... [--expires 720h]",
		Short: "Issue an API token; it is printed once and stored only as a hash",
		Example: `  allot token create --user ci-bot --name dashboards --scope read
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/v1/tenants`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Validate before touching the database.
			if _, err := access.ParseScopes(nt.Scopes); err != nil {
				return err
			}
			s, err := c.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			secret, t, err := (&access.Service{Store: s}).CreateToken(cmd.Context(), cliActor(), nt)
			if err != nil {
				return err
			}
			if asJSON {
				return c.printJSON(struct {
					warehouse.APIToken
					Token string `json:"token"`
				}{t, secret})
			}
			fmt.Fprintf(c.stdout, "token %s for %s, scopes %s", t.ID, nt.Principal, strings.Join(t.Scopes, " "))
			if t.ExpiresAt != nil {
				fmt.Fprintf(c.stdout, ", expires %s", t.ExpiresAt.Format(time.RFC3339))
			}
			_, err = fmt.Fprintf(c.stdout, "\n%s\n(shown once: store it now)\n", secret)
			return err
		},
	}
	cmd.Flags().StringVar(&nt.Principal, "user", "", "account that owns the token")
	cmd.Flags().StringVar(&nt.Name, "name", "", "what the token is for")
	cmd.Flags().StringSliceVar(&nt.Scopes, "scope", []string{access.ScopeRead}, "read, * (all the account may do) or an action; repeatable")
	cmd.Flags().DurationVar(&nt.TTL, "expires", 0, "lifetime, e.g. 720h (default: until revoked)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (includes the token)")
	_ = cmd.MarkFlagRequired("user")
	return cmd
}

func newTokenListCmd(c *cli) *cobra.Command {
	var who string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--user NAME]",
		Short: "List tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := c.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			pid := ""
			if who != "" {
				p, err := s.GetPrincipal(ctx, who)
				if err != nil {
					return err
				}
				pid = p.ID
			}
			ts, err := s.ListAPITokens(ctx, pid)
			if err != nil {
				return err
			}
			if asJSON {
				if ts == nil {
					ts = []warehouse.APIToken{}
				}
				return c.printJSON(ts)
			}
			w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tOWNER\tNAME\tSCOPES\tSTATUS")
			for _, t := range ts {
				owner := t.PrincipalID
				if p, err := s.GetPrincipal(ctx, t.PrincipalID); err == nil {
					owner = p.Name
				}
				status := "active"
				switch {
				case t.RevokedAt != nil:
					status = "revoked " + t.RevokedAt.Format(time.RFC3339)
				case t.ExpiresAt != nil && time.Now().After(*t.ExpiresAt):
					status = "expired"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.ID, owner, t.Name, strings.Join(t.Scopes, " "), status)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&who, "user", "", "only this account's tokens")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newTokenRevokeCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token; requests using it are refused from now on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withAccess(cmd.Context(), func(_ warehouse.Store, svc *access.Service) error {
				if err := svc.RevokeToken(cmd.Context(), cliActor(), args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(c.stdout, "revoked token %s\n", args[0])
				return err
			})
		},
	}
}
