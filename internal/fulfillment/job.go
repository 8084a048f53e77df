package fulfillment

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/allot-dev/allot/internal/job"
	"github.com/allot-dev/allot/internal/warehouse"
)

// Queue is the River queue fulfilment runs on.
const Queue = "fulfillment"

// ApplyArgs is the River job that drains one tenant's due changes. Several
// may run at once, in one process or many: claims keep them apart.
type ApplyArgs struct {
	TenantID string `json:"tenant_id"`
	Slot     int    `json:"slot"`
}

// Kind names the job in River.
func (ApplyArgs) Kind() string { return "fulfillment_apply" }

type applyWorker struct {
	river.WorkerDefaults[ApplyArgs]
	f *Fulfiller
}

func (w *applyWorker) Work(ctx context.Context, j *river.Job[ApplyArgs]) error {
	st, err := w.f.Drain(ctx, j.Args.TenantID)
	if st.Claimed > 0 {
		w.f.log.Info("fulfilment", "tenant", j.Args.TenantID, "claimed", st.Claimed, "done", st.Done,
			"failed", st.Failed, "retried", st.Retried, "writes", st.Writes)
	}
	return err
}

// Timeout lets a drain of a large plan run long (the next schedule picks up
// whatever is left), but stays under River's one-hour rescue of stuck jobs.
func (w *applyWorker) Timeout(*river.Job[ApplyArgs]) time.Duration { return 50 * time.Minute }

type scheduleArgs struct{}

func (scheduleArgs) Kind() string { return "fulfillment_schedule" }

type scheduleWorker struct {
	river.WorkerDefaults[scheduleArgs]
	store    warehouse.Store
	slots    int
	interval time.Duration
}

func (w *scheduleWorker) Work(ctx context.Context, _ *river.Job[scheduleArgs]) error {
	ts, err := w.store.ListTenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		for slot := range w.slots {
			if _, err := job.Enqueue(ctx, ApplyArgs{TenantID: t.ID, Slot: slot}, applyOpts(w.interval)); err != nil {
				return fmt.Errorf("schedule fulfilment of %s: %w", t.Name, err)
			}
		}
	}
	return nil
}

// applyOpts makes apply jobs unique per tenant and slot within one
// scheduling period, so a slow drain never piles up copies of itself; a
// drain killed with its process blocks only its own period.
func applyOpts(period time.Duration) *river.InsertOpts {
	return &river.InsertOpts{Queue: Queue, MaxAttempts: 5,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: max(period, time.Second)}}
}

// Options tune Register.
type Options struct {
	// Interval is how often due changes are looked for (default 2 s):
	// effective dates, retries and changes queued by other processes.
	Interval time.Duration
	// Slots is how many drains per tenant one schedule starts, so several
	// worker processes share a large queue (default 2).
	Slots int
}

// Register adds the apply worker, its queue and the periodic schedule.
func Register(reg *job.Registry, f *Fulfiller, opt Options) error {
	if opt.Interval <= 0 {
		opt.Interval = 2 * time.Second
	}
	if opt.Slots <= 0 {
		opt.Slots = 2
	}
	reg.Queue(Queue, opt.Slots)
	if err := job.Register(reg, &applyWorker{f: f}); err != nil {
		return err
	}
	if err := job.Register(reg, &scheduleWorker{store: f.store, slots: opt.Slots, interval: opt.Interval}); err != nil {
		return err
	}
	reg.Every(opt.Interval, func() (river.JobArgs, *river.InsertOpts) {
		return scheduleArgs{}, &river.InsertOpts{Queue: Queue, UniqueOpts: river.UniqueOpts{ByPeriod: max(opt.Interval, time.Second)}}
	}, true)
	return nil
}
