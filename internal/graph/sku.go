package graph

import "context"

const (
	opListSubscribedSkus = "ListSubscribedSkus"
	permSkuRead          = "Organization.Read.All"
)

// ListSubscribedSkus streams the tenant's SKUs with seat counts and plans.
// Graph supports neither $filter nor $top here; the list is short.
func (c *Client) ListSubscribedSkus(ctx context.Context, fn PageFunc[SubscribedSku]) error {
	_, err := forEachPage(ctx, c, Query{Op: opListSubscribedSkus, Path: "/subscribedSkus", Permission: permSkuRead}, fn)
	return err
}
