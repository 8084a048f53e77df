// Package warehouse owns allot's persistent state: the identity warehouse
// (users, groups, memberships, SKUs, license states, mailboxes), the inbox of
// raw Graph pages, per-tenant sync state, pools, the change queue and the
// append-only audit history.
//
// One Store interface has two backends that must behave identically: SQLite
// (modernc.org/sqlite, WAL, one writer) for a single host and PostgreSQL (pgx
// v5) for scale-out. Both share one SQL implementation; only placeholders,
// time encoding and the bulk-load path differ (COPY into a staging table on
// PostgreSQL, batched multi-row upserts in one transaction on SQLite). The
// conformance suite in warehousetest runs against both. On SQLite the inbox
// lives beside the database, so that fetchers storing pages do not queue
// behind the single writer: the pages' claim state in a file of its own
// (the database's path plus "-inbox") and each page's body in a file (in
// the directory at the path plus "-pages").
package warehouse
