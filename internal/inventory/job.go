package inventory

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/allot-dev/allot/internal/job"
	"github.com/allot-dev/allot/internal/warehouse"
)

// SyncArgs is the River job that syncs one tenant.
type SyncArgs struct {
	TenantID string `json:"tenant_id"`
	Full     bool   `json:"full,omitempty"`
}

// Kind names the job in River.
func (SyncArgs) Kind() string { return "inventory_sync" }

// InsertOpts makes sync jobs unique per tenant while one is queued or
// running, so a tenant is never synced twice at once.
func (a SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true,
		ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
}

// scheduleArgs is the periodic job that enqueues one SyncArgs per tenant.
type scheduleArgs struct{}

func (scheduleArgs) Kind() string { return "inventory_schedule" }

// Queue is the River queue inventory work runs on.
const Queue = "inventory"

type syncWorker struct {
	river.WorkerDefaults[SyncArgs]
	syncer         *Syncer
	licenseRefresh time.Duration
}

func (w *syncWorker) Work(ctx context.Context, j *river.Job[SyncArgs]) error {
	res, err := w.syncer.Sync(ctx, j.Args.TenantID, Options{Full: j.Args.Full, Mailboxes: true,
		LicenseRefresh: w.licenseRefresh})
	if err != nil {
		return err
	}
	w.syncer.logger().Info("synced", "tenant", res.Tenant, "objects", res.Objects(), "seconds", res.Seconds)
	return nil
}

// Timeout allows a million-user full sync.
func (w *syncWorker) Timeout(*river.Job[SyncArgs]) time.Duration { return time.Hour }

type scheduleWorker struct {
	river.WorkerDefaults[scheduleArgs]
	store warehouse.Store
}

func (w *scheduleWorker) Work(ctx context.Context, _ *river.Job[scheduleArgs]) error {
	ts, err := w.store.ListTenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if _, err := job.Enqueue(ctx, SyncArgs{TenantID: t.ID}, nil); err != nil {
			return fmt.Errorf("schedule sync of %s: %w", t.Name, err)
		}
	}
	return nil
}

// Schedule configures the syncs a process runs.
type Schedule struct {
	// Every is how often every tenant is synced; zero enqueues nothing (the
	// process still runs syncs enqueued elsewhere).
	Every time.Duration
	// LicenseRefresh is Options.LicenseRefresh of the syncs the process
	// runs. The time of the last full read is stored per tenant, so
	// processes configured alike share one schedule.
	LicenseRefresh time.Duration
}

// Register adds the sync worker and, when sched.Every > 0, a periodic
// schedule that enqueues a sync of every tenant (skipped while one is still
// queued or running for that tenant).
func Register(reg *job.Registry, syncer *Syncer, sched Schedule) error {
	reg.Queue(Queue, 2)
	if err := job.Register(reg, &syncWorker{syncer: syncer, licenseRefresh: sched.LicenseRefresh}); err != nil {
		return err
	}
	if sched.Every <= 0 {
		return nil
	}
	if err := job.Register(reg, &scheduleWorker{store: syncer.Store}); err != nil {
		return err
	}
	reg.Every(sched.Every, func() (river.JobArgs, *river.InsertOpts) { return scheduleArgs{}, nil }, true)
	return nil
}
