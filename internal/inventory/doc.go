// Package inventory keeps the warehouse equal to each tenant's directory. It
// works in the two steps EmpowerID made familiar: pull raw Graph pages into
// the warehouse inbox, then process the inbox into users, groups,
// memberships, license states, SKUs and mailbox types. The steps overlap:
// while one page is being applied, the next ones are downloading.
//
// A full sync is a delta round from scratch; later syncs follow the stored
// deltaLink, and an expired link (410) falls back to a full round by itself.
//
// users/delta does not track licenseAssignmentStates, so license states are
// read on their own, in one of two ways. A full read lists every licensed
// user's states, plus, by id, the members license groups report in error
// (an error takes no seat, so a user whose only states are errors has no
// assignedLicenses and escapes that listing), and clears the states of users
// it no longer finds. It runs on a full sync, the first sync, after an
// expired delta link, on request (Options.Licenses) and when the last one is
// older than Options.LicenseRefresh, a day by default. Every other sync,
// once its delta rounds are applied, reads the states of the users they
// touched and of no one else: users the users round returned (it tracks
// assignedLicenses, so direct assignments and removals show up), members who
// joined or left a license group, and every member of a group whose licenses
// changed or that was deleted with licenses; 15 ids to a GET, as many GETs
// as Graph allows in a $batch. Re-reading every licensed user each cycle was
// 1.2 million states for a million users, and kept a 1 % delta sync at 41 s.
// The price: a change that reaches no tracked property waits for the next
// full read. Such are the errors group-based licensing writes on members
// after the sync that saw the group's new license (Entra processes it in the
// background; running out of seats is the common cause), and a direct
// assignment added to or removed from a SKU the user also has through a
// group.
//
// Pages are applied in transactions of up to 128, so the warehouse never
// holds half a page, and leave the inbox once that transaction commits; a
// sync starts by purging what an interrupted one left, so no page is
// applied twice. Delta links are stored only after their whole round has
// been applied. A full round's memberships are the
// exception that proves the rule: they are collected in memory, compactly,
// page by page, and replace the tenant's memberships in one transaction when
// the round ends, so readers see either the old set or the new one. An
// interrupted round loses only what it collected and is fetched again.
package inventory
