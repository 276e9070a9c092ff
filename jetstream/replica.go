package jetstream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/gamifykit/gamify"
)

// Replica is an engine that is one replica of a state shared through a
// JetStream stream: it has the API of a local engine (writes go through
// the stream, reads are local) plus the snapshots of its Log's bucket.
type Replica struct {
	*gamify.Engine
	log    *Log
	snaps  *snapshots
	logger *slog.Logger

	stop      context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Open opens the replica whose checkpoint is the file at path: it connects
// to the stream (creating it, the lease bucket and the snapshot bucket if
// they do not exist, else updating their settings to cfg's: replicas,
// de-duplication window, lease TTL, and no other limits) and opens the
// engine with the Log as
// opts.Replication, which catches up with the stream before Open returns.
// A missing file is first bootstrapped from the newest snapshot (an older
// one if it fails to download; none: the replica applies the stream from
// its start). If the stream was trimmed past the file's position (the
// replica was away longer than the snapshots reach back), the file is
// moved aside to path + ".stale", replacing an earlier one, and the
// replica bootstraps anew. Connecting, creating what is missing and
// restoring a snapshot must be done within one minute, else Open fails;
// OpenContext takes the bound from a context instead.
func Open(path string, cfg Config, opts *gamify.Options) (*Replica, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return OpenContext(ctx, path, cfg, opts)
}

// OpenContext is Open with ctx bounding the connection, the creation of
// the stream and buckets, and the restore of a snapshot (a large one may
// need longer than Open's minute). The engine's catch-up with the stream
// after that is not bounded by ctx.
func OpenContext(ctx context.Context, path string, cfg Config, opts *gamify.Options) (*Replica, error) {
	l, err := New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	r := &Replica{log: l}
	if r.snaps, err = openSnapshots(ctx, l); err != nil {
		l.Close()
		return nil, err
	}
	var o gamify.Options
	if opts != nil {
		o = *opts
	}
	o.Replication = l
	r.logger = cmp.Or(o.Logger, slog.Default())
	for attempt := 0; ; attempt++ {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			if _, err := r.snaps.restore(ctx, path); err != nil {
				l.Close()
				return nil, err
			}
		}
		r.Engine, err = gamify.Open(path, &o)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrTrimmed) || attempt > 0 {
			l.Close()
			return nil, err
		}
		if err := os.Rename(path, path+".stale"); err != nil {
			l.Close()
			return nil, fmt.Errorf("jetstream: move the trimmed file aside: %w", err)
		}
	}
	sctx, stop := context.WithCancel(context.Background())
	r.stop, r.done = stop, make(chan struct{})
	go r.snapshotLoop(sctx)
	return r, nil
}

// Log is the replica's log (its Head, Leader and connection).
func (r *Replica) Log() *Log { return r.log }

// Close stops the snapshots and gives up the lease, closes the engine (its
// checkpoint folds what it applied), then closes the Log.
func (r *Replica) Close() error {
	r.closeOnce.Do(func() {
		r.stop()
		<-r.done
		r.log.lease.stop()
		r.closeErr = r.Engine.Close()
		r.log.Close()
	})
	return r.closeErr
}

func (r *Replica) snapshotLoop(ctx context.Context) {
	defer close(r.done)
	every := r.log.cfg.SnapshotInterval
	if every < 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !r.log.Leader() {
			continue
		}
		if _, err := r.Snapshot(ctx); err != nil && ctx.Err() == nil {
			r.logError("jetstream: snapshot failed; the next one retries", err)
		}
	}
}

func (r *Replica) logError(msg string, err error) {
	r.logger.Error(msg, "err", err)
}

// Snapshot uploads a snapshot of the replica now (whether or not it holds
// the lease, and also with Config.SnapshotInterval negative), keeps the
// newest Config.SnapshotsKept and purges the stream up to the oldest kept
// one's position (never past a live follower, as the package doc says).
// It returns the position recorded for the snapshot: Stats().LogPosition
// (the last position staged) read before the backup, which checkpoints
// first, so the snapshot folds at least that.
func (r *Replica) Snapshot(ctx context.Context) (uint64, error) {
	// Every update staged by now is in the backup (it checkpoints first).
	p := r.Stats().LogPosition
	if err := r.snaps.put(ctx, p, r.Engine); err != nil {
		return 0, err
	}
	return p, r.snaps.prune(ctx, snapshotInfo{snapshotName(p), p})
}

var _ io.Closer = (*Replica)(nil)
