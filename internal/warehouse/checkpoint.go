package warehouse

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"sync"
	"time"
)

// checkpointer copies committed WAL frames into the SQLite database file from
// its own connection, so that the writer never does it inside a commit.
// SQLite's automatic checkpoint runs in whichever commit crosses the
// threshold, and in a bulk sync that made one commit in a few pay for copying
// everything written since; here the copy runs beside the writer (WAL lets a
// checkpoint proceed while a transaction is open) and on another core.
type checkpointer struct {
	db       *sql.DB
	wal      string
	pageSize int64 // a WAL frame holds one page
	stop     chan struct{}
	done     sync.WaitGroup
}

// Thresholds are variables so that a test can make them small.
var (
	// checkpointEvery is how often the WAL's size is looked at.
	checkpointEvery = 250 * time.Millisecond
	// checkpointAt is the WAL size that triggers a checkpoint: large enough
	// that a sync's commits do not each wait on one, small enough that
	// readers (which must consult the WAL) stay fast.
	checkpointAt int64 = 32 << 20
	// restartAt is the WAL size at which passive checkpoints have evidently
	// not kept up. SQLite starts the WAL over only after a checkpoint has
	// copied every frame, which a writer that commits continuously never
	// lets a passive one do; the WAL then grows without bound (3 GB in a
	// 100,000-user sync), and every page read searches an ever longer WAL
	// index. A RESTART checkpoint waits for the current transaction, holds
	// off the next one until the copy is done, and lets the WAL start over.
	restartAt int64 = 256 << 20
	// restartRemainder bounds what a RESTART may have left to copy: it runs
	// only right after a passive checkpoint has copied all but this many
	// bytes of frames, so the writer it holds off waits a fraction of a
	// second. A RESTART that had to copy gigabytes held the writer past its
	// busy timeout and failed a 1M-user sync. (It was 4,096 frames of the
	// 8 KiB pages of the time; frames are pages, so it is counted in bytes.)
	restartRemainder int64 = 32 << 20
)

func startCheckpointer(path string) (*checkpointer, error) {
	// A short busy timeout: a RESTART that waited long for the writer's
	// transaction could find a big commit to copy while holding the next
	// transaction off. Giving up and trying on the next tick is cheap.
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(100)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	var pageSize int64
	if err := db.QueryRowContext(context.Background(), "PRAGMA page_size").Scan(&pageSize); err != nil {
		db.Close()
		return nil, err
	}
	c := &checkpointer{db: db, wal: path + "-wal", stop: make(chan struct{}), pageSize: pageSize}
	c.done.Add(1)
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer c.done.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		fi, err := os.Stat(c.wal)
		if err != nil || fi.Size() < checkpointAt {
			continue
		}
		// PASSIVE never blocks the writer or readers: it copies what it can.
		frames, copied, err := c.checkpoint("PASSIVE")
		if err != nil {
			slog.Warn("sqlite checkpoint", "wal", c.wal, "err", err)
			continue
		}
		if fi.Size() >= restartAt && (frames-copied)*c.pageSize <= restartRemainder {
			// The writer may be in a long transaction; RESTART then gives up
			// after the busy timeout, and the next tick tries again.
			if _, _, err := c.checkpoint("RESTART"); err != nil {
				slog.Debug("sqlite checkpoint restart", "wal", c.wal, "err", err)
			}
		}
	}
}

// checkpoint runs one checkpoint and reports the WAL's frames and how many
// of them are now in the database file.
func (c *checkpointer) checkpoint(mode string) (frames, copied int64, err error) {
	var busy int
	err = c.db.QueryRowContext(context.Background(), "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &copied)
	return frames, copied, err
}

func (c *checkpointer) close() error {
	close(c.stop)
	c.done.Wait()
	return c.db.Close()
}
