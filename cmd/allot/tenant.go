package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/directory"
)

func init() { register(newTenantCmd) }

func newTenantCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{Use: "tenant", Short: "Register and list Entra tenants"}
	cmd.AddCommand(newTenantAddCmd(c), newTenantListCmd(c))
	return cmd
}

func newTenantAddCmd(c *cli) *cobra.Command {
	var t directory.Tenant
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "add --name NAME --tenant-id ID --client-id APP --secret env:VAR|file:/path",
		Short: "Register a tenant (the secret is referenced, never stored)",
		Args:  cobra.NoArgs,
		Example: `  allot tenant add --name contoso --tenant-id contoso.onmicrosoft.com \
    --client-id 00000000-0000-0000-0000-000000000000 --secret env:CONTOSO_SECRET`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Validate before opening the database so bad input writes nothing.
			if err := t.Validate(); err != nil {
				return err
			}
			s, err := c.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.CreateTenant(cmd.Context(), t); err != nil {
				return err
			}
			t, err = s.GetTenant(cmd.Context(), t.ID)
			if err != nil {
				return err
			}
			if asJSON {
				return c.printJSON(t)
			}
			_, err = fmt.Fprintf(c.stdout, "registered tenant %s (%s)\n", t.Name, t.ID)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&t.Name, "name", "", "short unique name used with --tenant")
	f.StringVar(&t.ID, "tenant-id", "", "Entra tenant id (GUID) or verified domain")
	f.StringVar(&t.ClientID, "client-id", "", "application (client) id of allot's app registration")
	f.StringVar(&t.SecretRef, "secret", "", "where the client secret lives: env:VAR or file:/path")
	f.StringVar(&t.GraphURL, "graph-url", "https://graph.microsoft.com/v1.0", "Graph base URL")
	f.StringVar(&t.AuthorityURL, "authority-url", "https://login.microsoftonline.com/", "token authority host")
	f.StringVar(&t.CAFile, "ca-file", "", "extra CA bundle to trust (for allot sim)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newTenantListCmd(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List registered tenants",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := c.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			ts, err := s.ListTenants(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				if ts == nil {
					ts = []directory.Tenant{}
				}
				return c.printJSON(ts)
			}
			if len(ts) == 0 {
				_, err := fmt.Fprintln(c.stdout, "no tenants registered; add one with: allot tenant add")
				return err
			}
			w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tTENANT ID\tCLIENT ID\tSECRET\tGRAPH")
			for _, t := range ts {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.ID, t.ClientID, t.SecretRef, strings.TrimSuffix(t.GraphURL, "/"))
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
