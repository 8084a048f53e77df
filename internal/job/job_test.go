package job_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/allot-dev/allot/internal/directory"
	"github.com/allot-dev/allot/internal/job"
	"github.com/allot-dev/allot/internal/warehouse"
	"github.com/allot-dev/allot/internal/warehouse/warehousetest"
)

type welcomeArgs struct {
	UserID string `json:"user_id"`
}

func (welcomeArgs) Kind() string { return "test_welcome" }

// welcomeWorker counts how many times each user's job ran.
type welcomeWorker struct {
	river.WorkerDefaults[welcomeArgs]
	mu   sync.Mutex
	runs map[string]int
	done chan string
}

func (w *welcomeWorker) Work(_ context.Context, j *river.Job[welcomeArgs]) error {
	w.mu.Lock()
	w.runs[j.Args.UserID]++
	w.mu.Unlock()
	w.done <- j.Args.UserID
	return nil
}

func (w *welcomeWorker) count(id string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.runs[id]
}

type tickArgs struct{}

func (tickArgs) Kind() string { return "test_tick" }

type tickWorker struct {
	river.WorkerDefaults[tickArgs]
	ticks chan struct{}
}

func (w *tickWorker) Work(context.Context, *river.Job[tickArgs]) error {
	select {
	case w.ticks <- struct{}{}:
	default:
	}
	return nil
}

func openStores(t *testing.T) map[string]func(t *testing.T) warehouse.Store {
	return map[string]func(t *testing.T) warehouse.Store{
		"SQLite": func(t *testing.T) warehouse.Store {
			s, err := warehouse.Open(context.Background(), warehousetest.SQLitePath(t))
			require.NoError(t, err)
			return s
		},
		"Postgres": func(t *testing.T) warehouse.Store {
			s, err := warehouse.Open(context.Background(), warehousetest.PostgresDSN(t))
			require.NoError(t, err)
			return s
		},
	}
}

const tenant = "t1"

func setup(t *testing.T, open func(t *testing.T) warehouse.Store) (warehouse.Store, *job.Client, *welcomeWorker, *tickWorker) {
	t.Helper()
	ctx := context.Background()
	s := open(t)
	t.Cleanup(func() { s.Close() })
	require.NoError(t, job.Migrate(ctx, s))
	require.NoError(t, job.Migrate(ctx, s), "migrating twice is a no-op")

	reg := job.NewRegistry()
	ww := &welcomeWorker{runs: map[string]int{}, done: make(chan string, 10)}
	tw := &tickWorker{ticks: make(chan struct{}, 1)}
	require.NoError(t, job.Register(reg, ww))
	require.NoError(t, job.Register(reg, tw))
	require.Error(t, job.Register(reg, ww), "a kind registered twice is refused")
	reg.Every(time.Hour, func() (river.JobArgs, *river.InsertOpts) { return tickArgs{}, nil }, true)

	c, err := job.New(s, reg, job.Config{Work: true, ID: "test", PollInterval: 50 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, c.Start(ctx))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
	return s, c, ww, tw
}

func TestTransactionalInsert(t *testing.T) {
	t.Parallel()
	for name, open := range openStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, c, ww, tw := setup(t, open)
			ctx := context.Background()

			// Committed: the user row and its job land together; the job runs once.
			require.NoError(t, s.InTx(ctx, func(tx warehouse.Tx) error {
				if err := tx.UpsertUsers(ctx, tenant, []directory.User{{ID: "u1", UserPrincipalName: "u1@x"}}); err != nil {
					return err
				}
				_, err := c.InsertTx(ctx, tx, welcomeArgs{UserID: "u1"}, nil)
				return err
			}))
			select {
			case id := <-ww.done:
				require.Equal(t, "u1", id)
			case <-time.After(20 * time.Second):
				t.Fatal("committed job was not worked")
			}

			// Rolled back: neither the row nor the job exists, and nothing runs.
			boom := errors.New("boom")
			err := s.InTx(ctx, func(tx warehouse.Tx) error {
				if err := tx.UpsertUsers(ctx, tenant, []directory.User{{ID: "u2", UserPrincipalName: "u2@x"}}); err != nil {
					return err
				}
				if _, err := c.InsertTx(ctx, tx, welcomeArgs{UserID: "u2"}, nil); err != nil {
					return err
				}
				return boom
			})
			require.ErrorIs(t, err, boom)
			_, err = s.GetUser(ctx, tenant, "u2")
			require.ErrorIs(t, err, warehouse.ErrNotFound)

			// Give workers many poll intervals to (wrongly) pick anything up.
			time.Sleep(600 * time.Millisecond)
			require.Equal(t, 1, ww.count("u1"), "the committed job ran exactly once")
			require.Equal(t, 0, ww.count("u2"), "the rolled-back job never ran")

			res, err := c.List(ctx, river.NewJobListParams().Kinds("test_welcome").States(
				rivertype.JobStateAvailable, rivertype.JobStateCompleted, rivertype.JobStateRunning,
				rivertype.JobStateScheduled, rivertype.JobStateRetryable, rivertype.JobStatePending))
			require.NoError(t, err)
			require.Len(t, res.Jobs, 1, "only the committed job exists")
			require.Equal(t, rivertype.JobStateCompleted, res.Jobs[0].State)

			// Periodic jobs registered by packages run (RunOnStart).
			select {
			case <-tw.ticks:
			case <-time.After(20 * time.Second):
				t.Fatal("periodic job did not run")
			}
		})
	}
}

func TestInsertOnlyClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := warehouse.Open(ctx, warehousetest.SQLitePath(t))
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, job.Migrate(ctx, s))
	c, err := job.New(s, nil, job.Config{})
	require.NoError(t, err)
	res, err := c.Insert(ctx, welcomeArgs{UserID: "u9"}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
	require.NoError(t, err)
	require.False(t, res.UniqueSkippedAsDuplicate)
	res, err = c.Insert(ctx, welcomeArgs{UserID: "u9"}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}})
	require.NoError(t, err)
	require.True(t, res.UniqueSkippedAsDuplicate, "unique jobs: one tenant is never synced twice at once")
}
