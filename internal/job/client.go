package job

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/allot-dev/allot/internal/warehouse"
)

// ErrUnsupportedStore means the store is neither of the known backends.
var ErrUnsupportedStore = errors.New("job: unsupported warehouse backend")

// Config tunes a Client.
type Config struct {
	// Work runs the registered workers; false gives an insert-only client
	// (CLI commands that enqueue and leave).
	Work bool
	// ID names this process in River's leader election and job attempts.
	ID string
	// PollInterval is how often a worker looks for new jobs. SQLite has no
	// LISTEN/NOTIFY, so this bounds how soon a job starts there.
	PollInterval time.Duration
	// RescueAfter is how long a running job may go without finishing before
	// River assumes its worker died (kill -9) and retries it elsewhere.
	RescueAfter time.Duration
	Logger      *slog.Logger
}

// Client inserts and works jobs on the store's database. It hides River's
// transaction type, which differs per backend (*sql.Tx or pgx.Tx).
type Client struct {
	insert   func(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	insertTx func(ctx context.Context, tx warehouse.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	list     func(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	start    func(ctx context.Context) error
	stop     func(ctx context.Context) error
	events   func(kinds ...river.EventKind) (<-chan *river.Event, func())
}

// New builds a client for store. Run Migrate first.
func New(store warehouse.Store, reg *Registry, cfg Config) (*Client, error) {
	if reg == nil {
		reg = NewRegistry()
	}
	rc := &river.Config{
		ID:                   cfg.ID,
		Logger:               cfg.Logger,
		FetchPollInterval:    cfg.PollInterval,
		RescueStuckJobsAfter: cfg.RescueAfter,
	}
	if rc.Logger == nil {
		rc.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PollInterval > 0 && cfg.PollInterval < 100*time.Millisecond {
		rc.FetchCooldown = cfg.PollInterval
	}
	if cfg.Work {
		rc.Workers = reg.workers
		rc.Queues = reg.queues
		rc.PeriodicJobs = reg.periodic
	}
	switch s := store.(type) {
	case *warehouse.SQLiteStore:
		rc.PollOnly = true
		return newClient(riversqlite.New(s.DB()), rc, func(tx warehouse.Tx) (*sql.Tx, error) {
			t, ok := tx.(interface{ SQLTx() *sql.Tx })
			if !ok {
				return nil, fmt.Errorf("job: %T is not a SQLite transaction", tx)
			}
			return t.SQLTx(), nil
		})
	case *warehouse.PostgresStore:
		return newClient(riverpgxv5.New(s.Pool()), rc, func(tx warehouse.Tx) (pgx.Tx, error) {
			t, ok := tx.(interface{ PgxTx() pgx.Tx })
			if !ok {
				return nil, fmt.Errorf("job: %T is not a PostgreSQL transaction", tx)
			}
			return t.PgxTx(), nil
		})
	}
	return nil, fmt.Errorf("%w: %T", ErrUnsupportedStore, store)
}

func newClient[TTx any](driver riverdriver.Driver[TTx], rc *river.Config, txOf func(warehouse.Tx) (TTx, error)) (*Client, error) {
	rcl, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	return &Client{
		insert: rcl.Insert,
		insertTx: func(ctx context.Context, tx warehouse.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
			t, err := txOf(tx)
			if err != nil {
				return nil, err
			}
			return rcl.InsertTx(ctx, t, args, opts)
		},
		list:   rcl.JobList,
		start:  rcl.Start,
		stop:   rcl.Stop,
		events: rcl.Subscribe,
	}, nil
}

// Insert enqueues a job on its own.
func (c *Client) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return c.insert(ctx, args, opts)
}

// InsertTx enqueues a job inside a warehouse transaction: it becomes visible
// to workers only if the transaction commits.
func (c *Client) InsertTx(ctx context.Context, tx warehouse.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return c.insertTx(ctx, tx, args, opts)
}

// List queries jobs (for status pages and tests).
func (c *Client) List(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error) {
	return c.list(ctx, params)
}

// Start begins working jobs; it returns once the client is running.
func (c *Client) Start(ctx context.Context) error { return c.start(ctx) }

// Stop waits for running jobs to finish (or ctx to end).
func (c *Client) Stop(ctx context.Context) error { return c.stop(ctx) }

// Subscribe streams job events (completed, failed, …) until cancel is called.
func (c *Client) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return c.events(kinds...)
}

// Migrate brings River's own tables up to date on the store's database.
// Like the warehouse migrations it is idempotent and runs at every start.
func Migrate(ctx context.Context, store warehouse.Store) error {
	var err error
	switch s := store.(type) {
	case *warehouse.SQLiteStore:
		err = migrate(ctx, riversqlite.New(s.DB()))
	case *warehouse.PostgresStore:
		err = migrate(ctx, riverpgxv5.New(s.Pool()))
	default:
		return fmt.Errorf("%w: %T", ErrUnsupportedStore, store)
	}
	if err != nil {
		return fmt.Errorf("job: migrate river: %w", err)
	}
	return nil
}

func migrate[TTx any](ctx context.Context, d riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New(d, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// ErrNotInWorker means Enqueue was called outside a River worker.
var ErrNotInWorker = errors.New("job: not inside a worker")

// Enqueue inserts a job from inside a worker, through the client working the
// current job, whichever backend it runs on. Schedulers use it to fan out.
func Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	if c, err := river.ClientFromContextSafely[*sql.Tx](ctx); err == nil {
		return c.Insert(ctx, args, opts)
	}
	if c, err := river.ClientFromContextSafely[pgx.Tx](ctx); err == nil {
		return c.Insert(ctx, args, opts)
	}
	return nil, ErrNotInWorker
}
