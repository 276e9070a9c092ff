package gamify

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gamifykit/gamify/store"
)

// Engine is an open gamification database. It is safe for concurrent use:
// mutations are applied one at a time under the writer's lock and committed
// in groups by a committer goroutine; reads run concurrently on snapshots.
type Engine struct {
	path   string // as opened: tenant files live beside it
	opts   Options
	years  yearDists // year-in-review distributions, built on demand
	db     *store.DB
	log    commandLog // the source of truth; db is its checkpoint (checkpoint.go)
	repl   *replica   // set when the log is shared (replication.go)
	ckpt   checkpointer
	w      *writer
	cat    atomic.Pointer[catalog] // last committed definitions
	notify *notifier
	box    outbox
	sched  *scheduler

	boardsMu sync.RWMutex // guards the boards map (each runtime has its own lock)
	boards   map[uint32]*boardRuntime
	leagues  leagueSet // league cohorts and tiers (league_state.go)

	tenants tenants
	parts   participants

	stopRunner   context.CancelFunc // nil under a ManualClock
	runnerExited chan struct{}

	closeMu sync.RWMutex // guards closed against in-flight submits
	closed  bool

	commits commitStats // written by the committer, read by Stats

	committerExited chan struct{}
	closeOnce       sync.Once
	closeErr        error
}

// Open opens (creating if needed) the database at path. opts may be nil for
// the defaults. Every bad option is reported at once.
//
// A file written by an older gamify (schema version 2 and later) is
// upgraded in place: Open first copies it, byte for byte and synced, to
// path + ".v<version>.bak" (game.db.v2.bak), then rewrites its records in
// one transaction, so a failure or crash leaves the old file untouched. It
// never overwrites a different file at the backup path (ErrBackupExists).
// A file of a newer gamify is ErrNewerSchema, an older layout without a
// migration ErrOldSchema. An existing path that is empty, a directory, a
// named pipe or another program's bbolt file is refused before anything is
// written (ErrCorrupt, ErrForeign). Tenant files are migrated the same way
// when Engine.Tenant first opens them.
func Open(path string, opts *Options) (*Engine, error) {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	if err := checkClock(o.Clock.Now()); err != nil {
		return nil, err // before the file is touched
	}
	db, err := store.Open(path, store.Options{LockTimeout: o.LockTimeout, NoSync: o.noSync, BeforeCommit: o.beforeCheckpoint,
		Migrations: migrations, Staged: true})
	if err != nil {
		return nil, fmt.Errorf("gamify: %w", err)
	}
	e := &Engine{path: db.Path(), opts: o, db: db, committerExited: make(chan struct{}), notify: newNotifier(o.NotifyBuffer, o.Logger),
		sched: newScheduler(), runnerExited: make(chan struct{}), boards: map[uint32]*boardRuntime{}}
	e.box.consumers = map[string]*Consumer{}
	e.ckpt = newCheckpointer()
	e.w = &writer{opts: o, log: o.Logger, db: db, eng: e, commits: make(chan *batch, 1)}
	e.w.sealable.L = &e.w.mu
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // never fails (crypto/rand)
	e.w.seeds = rand.NewChaCha8(seed)
	if o.Replication != nil {
		e.repl = newReplica(o.Replication)
	}
	if err := e.checkReplicaFile(); err != nil {
		db.Close()
		return nil, fmt.Errorf("gamify: open %s: %w", path, err)
	}
	if e.repl != nil {
		e.log = nopLog{}
	} else if err := e.openLog(); err != nil {
		db.Close()
		return nil, fmt.Errorf("gamify: open %s: %w", path, err)
	}
	if err := e.w.reload(); err != nil {
		e.log.Close()
		db.Close()
		return nil, fmt.Errorf("gamify: open %s: %w", path, err)
	}

	go e.commitLoop()
	if err := e.knownJobs(); err != nil {
		e.Close()
		return nil, fmt.Errorf("gamify: open %s: %w", path, err)
	}
	if e.repl != nil {
		if err := e.startFollowing(); err != nil {
			e.Close()
			return nil, fmt.Errorf("gamify: open %s: catch up with the replicated log: %w", path, err)
		}
	} else if err := e.replay(); err != nil {
		e.Close()
		return nil, fmt.Errorf("gamify: open %s: replay the command log: %w", path, err)
	}
	e.startCheckpointer()
	if err := e.registerBuiltinJobs(); err != nil {
		e.Close()
		return nil, fmt.Errorf("gamify: open %s: %w", path, err)
	}
	// Catch up on what fell due while the engine was closed, then start the
	// runner last.
	if _, err := e.runDue(context.Background(), e.now()); err != nil {
		e.Close()
		return nil, fmt.Errorf("gamify: open %s: catch up on due jobs: %w", path, err)
	}
	if _, manual := o.Clock.(*ManualClock); !manual {
		ctx, cancel := context.WithCancel(context.Background())
		e.stopRunner = cancel
		go e.runner(ctx)
	}
	return e, nil
}

// Close flushes what is pending, stops the writer and closes the file. It is
// idempotent; calls after it return ErrClosed.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		tenantsErr := e.closeTenants()
		defer func() { e.closeErr = errors.Join(e.closeErr, tenantsErr) }()
		if e.stopRunner != nil {
			e.stopRunner()
			<-e.runnerExited // a running job finishes first
		}
		e.stopFollowing()
		e.closeMu.Lock()
		e.closed = true
		e.closeMu.Unlock()
		w := e.w
		w.mu.Lock()
		w.closing = true
		w.maybeSeal()
		for w.inFlight || !w.open.empty() {
			w.waitSealable()
		}
		w.mu.Unlock()
		close(w.commits)
		<-e.committerExited
		w.idemSeen.wg.Wait() // a rebuild's scan reads the store
		e.notify.close()
		e.closeErr = errors.Join(e.closeLog(), e.db.Close())
		if e.w.lostErr != nil {
			e.closeErr = errors.Join(e.closeErr, fmt.Errorf("gamify: buffered events were lost: %w", e.w.lostErr))
		}
	})
	return e.closeErr
}

func (e *Engine) live() error {
	e.closeMu.RLock()
	defer e.closeMu.RUnlock()
	if e.closed {
		return ErrClosed
	}
	return nil
}

func (e *Engine) now() time.Time { return e.opts.Clock.Now() }

// exec runs a logged command (an op with its arguments, commands.go) as an
// administrative change: it always waits for the commit, whatever the
// durability mode.
func (e *Engine) exec(ctx context.Context, now time.Time, c command) (any, error) {
	return e.do(ctx, c, now, true)
}

// Flush returns once everything applied before it is committed. In Buffered
// mode it reports a failed commit of earlier events since the last Flush.
func (e *Engine) Flush(ctx context.Context) error {
	r := &request{cmd: flushCmd{}, durable: true, flush: true}
	_, err := e.submit(ctx, r)
	return err
}

type flushCmd struct{}

func (flushCmd) apply(w *writer, _ time.Time) (any, error) {
	if err := w.lostErr; err != nil {
		w.lostErr = nil
		return nil, fmt.Errorf("gamify: buffered events were lost: %w", err)
	}
	return nil, nil
}
