package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { register(newMigrateCmd) }

func newMigrateCmd(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Create or upgrade the warehouse schema (also done at every start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := c.openStore(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			v, err := s.SchemaVersion(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return c.printJSON(map[string]any{"backend": s.Backend(), "schema_version": v})
			}
			_, err = fmt.Fprintf(c.stdout, "%s warehouse at schema version %d\n", s.Backend(), v)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
