package main

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/allot-dev/allot/internal/access"
	"github.com/allot-dev/allot/internal/warehouse"
)

func init() { register(newUserCmd) }

// cliActor names who acted from the command line in the audit log: whoever
// can open the database is trusted, but the log still says which OS user.
func cliActor() string {
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}

// withAccess opens the warehouse and runs fn with access control over it.
func (c *cli) withAccess(ctx context.Context, fn func(s warehouse.Store, svc *access.Service) error) error {
	s, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s, &access.Service{Store: s})
}

func newUserCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage allot accounts (people and service accounts) and their roles"}
	cmd.AddCommand(newUserAddCmd(c), newUserListCmd(c), newUserDisableCmd(c, true), newUserDisableCmd(c, false),
		newUserGrantCmd(c), newUserRevokeCmd(c))
	return cmd
}

// scopeFlags are --tenant/--pool/--group, shared by the commands that grant.
type scopeFlags struct{ tenant, pool, group string }

func (f *scopeFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.tenant, "tenant", "", "limit the role to this tenant (name or id; default: every tenant)")
	cmd.Flags().StringVar(&f.pool, "pool", "", "limit the role to this pool of --tenant")
	cmd.Flags().StringVar(&f.group, "group", "", "limit the role to this group (id) of --tenant")
}

func (f *scopeFlags) resolve(ctx context.Context, s warehouse.Reader) (access.Scope, error) {
	if f.tenant == "" {
		if f.pool != "" || f.group != "" {
			return access.Scope{}, fmt.Errorf("--pool and --group need --tenant")
		}
		return access.Scope{}, nil
	}
	t, err := s.GetTenant(ctx, f.tenant)
	if err != nil {
		return access.Scope{}, err
	}
	return access.Scope{TenantID: t.ID, Pool: f.pool, GroupID: f.group}, nil
}

func newUserAddCmd(c *cli) *cobra.Command {
	var np access.NewPrincipal
	var service, passwordStdin bool
	var role string
	var sf scopeFlags
	cmd := &cobra.Command{
		Use:   "add NAME [--role ROLE [--tenant T [--pool P | --group G]]]",
		Short: "Create an account; prints a one-time password to change at first sign-in",
		Example: `  allot user add alice --display-name "Alice Ng" --role license-manager --tenant contoso
  allot user add approver-e5 --role approver --tenant contoso --pool "E5 for IT"
  allot user add ci-bot --service --role auditor`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			np.Name = args[0]
			if service {
				np.Kind = access.KindService
			}
			var r access.Role
			if role != "" {
				var err error
				if r, err = access.ParseRole(role); err != nil {
					return err
				}
			}
			if passwordStdin {
				var pw string
				if _, err := fmt.Fscanln(os.Stdin, &pw); err != nil {
					return fmt.Errorf("read password from stdin: %w", err)
				}
				np.Password = strings.TrimSpace(pw)
			}
			s, err := c.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			scope, err := sf.resolve(ctx, s)
			if err != nil {
				return err
			}
			svc := &access.Service{Store: s}
			p, oneTime, err := svc.CreatePrincipal(ctx, cliActor(), np)
			if err != nil {
				return err
			}
			if r != "" {
				if _, err := svc.Grant(ctx, cliActor(), p.ID, r, scope); err != nil {
					return err
				}
			}
			fmt.Fprintf(c.stdout, "created %s %s\n", p.Kind, p.Name)
			if r != "" {
				fmt.Fprintf(c.stdout, "role %s over %s\n", r, scope)
			}
			if oneTime != "" {
				fmt.Fprintf(c.stdout, "one-time password (shown once; must be changed at first sign-in): %s\n", oneTime)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&np.DisplayName, "display-name", "", "name shown in the console and audit log")
	cmd.Flags().BoolVar(&service, "service", false, "a service account: API tokens only, no password")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin instead of generating a one-time one")
	cmd.Flags().StringVar(&role, "role", "", "grant a role: "+roleNames())
	sf.add(cmd)
	return cmd
}

func roleNames() string {
	names := make([]string, len(access.Roles))
	for i, r := range access.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

func newUserListCmd(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List accounts and their roles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, err := c.openStore(ctx)
			if err != nil {
				return err
			}
			defer s.Close()
			ps, err := s.ListPrincipals(ctx)
			if err != nil {
				return err
			}
			svc := &access.Service{Store: s}
			out := []*access.Principal{}
			for _, wp := range ps {
				p, err := svc.Load(ctx, wp.ID)
				if err != nil {
					return err
				}
				out = append(out, p)
			}
			if asJSON {
				return c.printJSON(out)
			}
			if len(out) == 0 {
				_, err := fmt.Fprintln(c.stdout, "no accounts yet; the first `allot serve` creates an administrator")
				return err
			}
			names, err := tenantNames(ctx, s)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tKIND\tSTATUS\tROLES")
			for _, p := range out {
				status := "active"
				switch {
				case p.Disabled:
					status = "disabled"
				case p.MustChangePassword:
					status = "password change pending"
				}
				var roles []string
				for _, d := range p.Delegations {
					roles = append(roles, fmt.Sprintf("%s over %s (#%d)", d.Role, delegationScope(d, names), d.ID))
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", p.Name, p.Kind, status, strings.Join(roles, "; "))
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func tenantNames(ctx context.Context, s warehouse.Reader) (map[string]string, error) {
	ts, err := s.ListTenants(ctx)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, t := range ts {
		m[t.ID] = t.Name
	}
	return m, nil
}

func delegationScope(d warehouse.Delegation, tenantNames map[string]string) string {
	switch {
	case d.TenantID == "":
		return "all tenants"
	case d.Pool != "":
		return tenantNames[d.TenantID] + "/pool " + d.Pool
	case d.GroupID != "":
		return tenantNames[d.TenantID] + "/group " + d.GroupID
	}
	return tenantNames[d.TenantID]
}

func newUserDisableCmd(c *cli, disable bool) *cobra.Command {
	use, short := "enable NAME", "Re-enable a disabled account"
	if disable {
		use, short = "disable NAME", "Disable an account: its sessions end and its tokens stop working at once"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withAccess(cmd.Context(), func(_ warehouse.Store, svc *access.Service) error {
				if err := svc.SetDisabled(cmd.Context(), cliActor(), args[0], disable); err != nil {
					return err
				}
				_, err := fmt.Fprintf(c.stdout, "%sd %s\n", strings.Fields(use)[0], args[0])
				return err
			})
		},
	}
}

func newUserGrantCmd(c *cli) *cobra.Command {
	var role string
	var sf scopeFlags
	cmd := &cobra.Command{
		Use:   "grant NAME --role ROLE [--tenant T [--pool P | --group G]]",
		Short: "Give an account a role over every tenant, one tenant, or one pool or group",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := access.ParseRole(role)
			if err != nil {
				return err
			}
			return c.withAccess(ctx, func(s warehouse.Store, svc *access.Service) error {
				scope, err := sf.resolve(ctx, s)
				if err != nil {
					return err
				}
				d, err := svc.Grant(ctx, cliActor(), args[0], r, scope)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(c.stdout, "granted %s over %s to %s (delegation #%d)\n", r, scope, args[0], d.ID)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "the role: "+roleNames())
	_ = cmd.MarkFlagRequired("role")
	sf.add(cmd)
	return cmd
}

func newUserRevokeCmd(c *cli) *cobra.Command {
	var id int64
	cmd := &cobra.Command{
		Use:   "revoke --delegation ID",
		Short: "Remove a role (the delegation number shown by `allot user list`)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withAccess(cmd.Context(), func(_ warehouse.Store, svc *access.Service) error {
				if err := svc.Revoke(cmd.Context(), cliActor(), id); err != nil {
					return err
				}
				_, err := fmt.Fprintf(c.stdout, "revoked delegation #%d\n", id)
				return err
			})
		},
	}
	cmd.Flags().Int64Var(&id, "delegation", 0, "delegation number")
	_ = cmd.MarkFlagRequired("delegation")
	return cmd
}
