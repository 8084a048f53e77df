package workflow

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/allot-dev/allot/internal/job"
)

// Queue is the River queue workflow work runs on.
const Queue = "workflow"

// TickArgs is the River job that moves one tenant's requests along: the
// post-run phase of applied requests, routing pending removals to approvers,
// and delivering notifications.
type TickArgs struct {
	TenantID string `json:"tenant_id"`
}

// Kind names the job in River.
func (TickArgs) Kind() string { return "workflow_tick" }

type tickWorker struct {
	river.WorkerDefaults[TickArgs]
	o     Options
	owner string
}

func (w *tickWorker) Work(ctx context.Context, j *river.Job[TickArgs]) error {
	return w.o.Pipeline.Tick(ctx, j.Args.TenantID, w.owner, w.o.Mailer, w.o.RemovalBatchTTL)
}

// Tick does one round of the background work of a tenant's pipeline.
func (p *Pipeline) Tick(ctx context.Context, tenantID, owner string, m *Mailer, ttl time.Duration) error {
	for {
		n, err := p.PostRun(ctx, tenantID, owner, 500)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	if _, err := p.RouteRemovals(ctx, tenantID, ttl); err != nil {
		return err
	}
	if m != nil {
		if _, err := m.Deliver(ctx, p.Store, owner); err != nil {
			return err
		}
	}
	return nil
}

type scheduleArgs struct{}

func (scheduleArgs) Kind() string { return "workflow_schedule" }

type scheduleWorker struct {
	river.WorkerDefaults[scheduleArgs]
	o Options
}

func (w *scheduleWorker) Work(ctx context.Context, _ *river.Job[scheduleArgs]) error {
	ts, err := w.o.Pipeline.Store.ListTenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if _, err := job.Enqueue(ctx, TickArgs{TenantID: t.ID}, &river.InsertOpts{Queue: Queue,
			UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: max(w.o.Interval, time.Second)}}); err != nil {
			return fmt.Errorf("schedule workflow tick of %s: %w", t.Name, err)
		}
	}
	return nil
}

// Options are what Register needs.
type Options struct {
	Pipeline *Pipeline
	// Mailer delivers notifications; nil leaves them queued.
	Mailer *Mailer
	// Interval is how often each tenant's pipeline ticks (default 2 s).
	Interval time.Duration
	// RemovalBatchTTL releases approver batches left undecided this long
	// (default 7 days; routed again to whoever approves then).
	RemovalBatchTTL time.Duration
}

// Register adds the tick worker, its queue and the periodic schedule.
func Register(reg *job.Registry, o Options) error {
	if o.Pipeline == nil {
		return fmt.Errorf("workflow: Register needs a Pipeline")
	}
	if o.Interval <= 0 {
		o.Interval = 2 * time.Second
	}
	if o.RemovalBatchTTL <= 0 {
		o.RemovalBatchTTL = 7 * 24 * time.Hour
	}
	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s-%d-%s", host, os.Getpid(), uuid.NewString()[:8])
	reg.Queue(Queue, 2)
	if err := job.Register(reg, &tickWorker{o: o, owner: owner}); err != nil {
		return err
	}
	if err := job.Register(reg, &scheduleWorker{o: o}); err != nil {
		return err
	}
	reg.Every(o.Interval, func() (river.JobArgs, *river.InsertOpts) {
		return scheduleArgs{}, &river.InsertOpts{Queue: Queue, UniqueOpts: river.UniqueOpts{ByPeriod: max(o.Interval, time.Second)}}
	}, true)
	return nil
}
