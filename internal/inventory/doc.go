// Package inventory keeps the warehouse equal to each tenant's directory. It
// works in the two steps EmpowerID made familiar: pull raw Graph pages into
// the warehouse inbox, then process the inbox into users, groups,
// memberships, license states, SKUs and mailbox types. The steps overlap:
// while one page is being applied, the next ones are downloading.
//
// A full sync is a delta round from scratch; later syncs follow the stored
// deltaLink, and an expired link (410) falls back to a full round by itself.
// Because users/delta does not track licenseAssignmentStates, every sync also
// re-reads the license states of licensed users. Each page is applied in one
// transaction together with its removal from the inbox, so the warehouse
// never holds half a page, and delta links are stored only after their
// whole round has been applied. A full round's memberships are the
// exception that proves the rule: they are collected in memory, compactly,
// page by page, and replace the tenant's memberships in one transaction when
// the round ends, so readers see either the old set or the new one. An
// interrupted round loses only what it collected and is fetched again.
package inventory
