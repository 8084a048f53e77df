// Package fulfillment applies the change queue (the license inbox) to Graph:
// it claims due changes with leases, packs them into the fewest writes Graph
// allows — group additions 20 members per PATCH members@odata.bind, removals
// as DELETE …/members/{id}/$ref, direct licenses as one assignLicense per
// user, all sent twenty at a time in $batch — paces them with a write-budget
// governor shared by every worker process, and records each outcome.
//
// Exactly-once rests on two things. Every claim has a lease and every outcome
// is written only by the lease holder, in the same transaction as the
// warehouse rows (memberships, license states, the pool's grant) and the
// audit record the change produces. And Graph's membership and license writes
// are idempotent in effect: if a worker dies between Graph's success and its
// commit, the next worker re-sends the change and Graph answers "already a
// member" / "not a member" / "license already assigned", which counts as done
// without a second effect. Changes on the same user and target are never in
// flight together, so a replay cannot undo a newer opposite change.
package fulfillment
