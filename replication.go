package gamify

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gamifykit/gamify/store"
)

// ErrUnavailable is returned by a write of a replicated engine
// (Options.Replication) when the shared log cannot take it: the replica is
// cut off from the log, or the log lost its quorum. Nothing was applied by
// this replica; reads go on from its local state. The write may still reach
// the log if the failure hid its acknowledgement (every replica then
// applies it): retry with the same idempotency key, and expect ErrConflict
// from a retried Create that had landed.
var ErrUnavailable = errors.New("gamify: replicated log unavailable")

// ReplicatedLog is a command log shared by several engines, each a full
// replica of one state (package jetstream provides one over NATS
// JetStream). Every write of a replicated engine is proposed to the log and
// applied when it comes back in the log's order, by every replica alike:
// a command's result is the one every replica computes at its position.
//
// Positions are consecutive from 1, in the log's order. Implementations
// must be safe for concurrent use.
type ReplicatedLog interface {
	// Propose appends rec under id and returns its position once the log
	// holds it durably. A retry with the same id (by the implementation or
	// the engine) is appended once and returns the first position. An
	// unreachable log is an error wrapping ErrUnavailable.
	Propose(ctx context.Context, id string, rec []byte) (pos uint64, err error)
	// Follow calls fn with every record from position from on, in order,
	// with the id it was proposed under, until ctx ends (it returns
	// ctx.Err()) or fn returns an error (it returns that). It rides out
	// disconnections on its own; it fails at once if the log no longer
	// holds position from (trimmed below it).
	Follow(ctx context.Context, from uint64, fn func(pos uint64, id string, rec []byte) error) error
	// Head is the last position the replica knows the log to hold (without
	// I/O): a replica's lag is Head minus what it applied.
	Head() uint64
	// Leader reports whether this replica may propose scheduled job runs
	// now. Job runs are idempotent, so two replicas proposing one for a
	// moment (a lease changing hands) is safe; none for a while only delays.
	Leader() bool
}

// A replicated engine (Options.Replication) applies the shared log the way
// a local engine replays its own at Open (checkpoint.go): a follower
// goroutine applies every record in the log's order — events in group
// commits, any other command once all before it has landed — and stages
// each batch at its log position, so the file's checkpoint records how far
// this replica folded the shared log. A write of this replica is encoded
// (with its time and random seed drawn first), proposed under an id of this
// process, and answered when the follower applies it: with the result every
// replica computes at that position. Nothing is applied locally that is not
// in the shared log.

// errDiverged stops a replica whose batch failed to land: the commands of
// the failed batch (and of the open one, applied on top of it) are gone
// from its working state, and applying the log further would skip them.
// A reopen follows the log again from the file's checkpoint.
var errDiverged = fmt.Errorf("%w: the replica stopped applying the shared log; reopen it", ErrUnavailable)

// replica is a replicated engine's side of the log.
type replica struct {
	log    ReplicatedLog
	prefix string // this process's proposal ids: prefix + sequence

	mu       sync.Mutex
	seq      uint64
	seeds    *rand.ChaCha8        // seeds of proposed track commands
	waiting  map[string]*proposal // proposals of this process not yet applied
	advanced chan struct{}        // closed when applied moves, if someone waits

	applied atomic.Uint64 // the last position applied
	cancel  context.CancelFunc
	exited  chan struct{} // closed when the follower stops
	err     error         // why it stopped; read after exited
}

// proposal is a write of this process waiting to be applied.
type proposal struct {
	durable bool
	applied chan appliedResult // capacity 1
}

// appliedResult is what applying a proposal gave: done, if set, answers
// once its batch landed.
type appliedResult struct {
	val  any
	err  error
	done chan response
}

func newReplica(l ReplicatedLog) *replica {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // never fails (crypto/rand)
	return &replica{log: l, prefix: fmt.Sprintf("%x-", seed[:8]), seeds: rand.NewChaCha8(seed),
		waiting: map[string]*proposal{}, exited: make(chan struct{})}
}

// nopLog stands in for the local log in a replicated engine: the shared
// log holds the commands, and every batch is staged at its position there.
type nopLog struct{}

func (nopLog) Append(...[]byte) (uint64, error) {
	return 0, errors.New("gamify: a replicated engine logs to its shared log")
}
func (nopLog) Sync() error                                           { return nil }
func (nopLog) Read(uint64, func(pos uint64, rec []byte) error) error { return nil }
func (nopLog) Trim(uint64) error                                     { return nil }
func (nopLog) First() uint64                                         { return 0 }
func (nopLog) Last() uint64                                          { return 0 }
func (nopLog) Size() int64                                           { return 0 }
func (nopLog) Close() error                                          { return nil }

// startFollowing starts the follower from the file's checkpoint and
// returns once it applied everything the log held when it started.
func (e *Engine) startFollowing() error {
	rp := e.repl
	from := e.db.CheckpointPosition()
	rp.applied.Store(from)
	head := rp.log.Head()
	ctx, cancel := context.WithCancel(context.Background())
	rp.cancel = cancel
	go e.follow(ctx, from+1)
	if err := rp.waitApplied(context.Background(), head); err != nil {
		return err
	}
	return e.Flush(context.Background())
}

// stopFollowing stops the follower once the record it is applying landed.
func (e *Engine) stopFollowing() {
	if rp := e.repl; rp != nil && rp.cancel != nil {
		rp.cancel()
		<-rp.exited
	}
}

// follow applies the shared log from position from on until ctx ends or a
// record cannot be applied as the log requires (then the replica stops
// applying: its writes fail and its reads stay as they are until reopened).
func (e *Engine) follow(ctx context.Context, from uint64) {
	rp := e.repl
	err := rp.log.Follow(ctx, from, func(pos uint64, id string, rec []byte) error {
		if want := rp.applied.Load() + 1; pos != want {
			return fmt.Errorf("%w: replicated log: position %d where %d was next", ErrCorrupt, pos, want)
		}
		c, now, err := decodeCommand(rec)
		if err != nil {
			return fmt.Errorf("%w: replicated log record %d: %w", ErrCorrupt, pos, err)
		}
		p := rp.take(id)
		res, err := e.applyLogged(pos, c, now, p != nil && p.durable, positionTag{}) // a replica has no local log to check
		if err != nil {
			return err
		}
		// A failed command is in the log and fails alike on every replica:
		// its caller hears why.
		if errors.Is(res.err, ErrClosed) || errors.Is(res.err, errDiverged) {
			if p != nil {
				p.applied <- res
			}
			return res.err
		}
		rp.advance(pos)
		if p != nil {
			p.applied <- res
		}
		return nil
	})
	switch {
	case ctx.Err() != nil:
		err = ErrClosed
	case errors.Is(err, errDiverged):
	default:
		// Writes wait for this replica's follower: they fail from now on
		// with ErrUnavailable and the reason.
		e.w.log.Error("gamify: the replica stopped applying the shared log; reopen it", "err", err)
		err = fmt.Errorf("%w: %w", errDiverged, err)
	}
	rp.err = err
	close(rp.exited)
}

// propose sends a write of this process to the shared log and answers with
// its result once the follower applied it.
func (e *Engine) propose(ctx context.Context, r *request) (any, error) {
	if err := e.live(); err != nil {
		return nil, err
	}
	if err := checkClock(r.now); err != nil {
		return nil, err
	}
	r.now = r.now.UTC()
	rp := e.repl
	id, rec, p, err := rp.prepare(r)
	if err != nil {
		return nil, err
	}
	defer rp.forget(id)
	// A replica that stopped applying would never answer: the write would
	// reach the log, apply on the other replicas and still fail here.
	// Refused first (one stopping during the proposal is the case
	// ErrUnavailable documents).
	if err := e.w.stopped(); err != nil {
		return nil, err
	}
	select {
	case <-rp.exited:
		return nil, rp.err
	default:
	}
	if _, err := rp.log.Propose(ctx, id, rec); err != nil {
		if ctx.Err() == nil && !errors.Is(err, ErrUnavailable) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return nil, fmt.Errorf("gamify: propose: %w", err)
	}
	select {
	case res := <-p.applied:
		if res.err != nil || res.done == nil {
			return res.val, res.err
		}
		select {
		case out := <-res.done:
			return out.val, out.err
		case <-ctx.Done():
			return nil, ctx.Err() // applied; it lands with its batch
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-rp.exited:
		return nil, rp.err
	}
}

// prepare draws r's random values, encodes it and registers it under a new
// id.
func (rp *replica) prepare(r *request) (string, []byte, *proposal, error) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if tc, ok := r.cmd.(*trackCmd); ok {
		tc.seed = rp.seeds.Uint64() | 1
	}
	rec, err := encodeCommand(nil, r.cmd, r.now)
	if err != nil {
		return "", nil, nil, err
	}
	rp.seq++
	id := rp.prefix + strconv.FormatUint(rp.seq, 10)
	p := &proposal{durable: r.durable, applied: make(chan appliedResult, 1)}
	rp.waiting[id] = p
	return id, rec, p, nil
}

func (rp *replica) take(id string) *proposal {
	if !strings.HasPrefix(id, rp.prefix) {
		return nil
	}
	rp.mu.Lock()
	defer rp.mu.Unlock()
	p := rp.waiting[id]
	delete(rp.waiting, id)
	return p
}

func (rp *replica) forget(id string) {
	rp.mu.Lock()
	delete(rp.waiting, id)
	rp.mu.Unlock()
}

func (rp *replica) advance(pos uint64) {
	rp.applied.Store(pos)
	rp.mu.Lock()
	if rp.advanced != nil {
		close(rp.advanced)
		rp.advanced = nil
	}
	rp.mu.Unlock()
}

// waitApplied returns once position pos is applied.
func (rp *replica) waitApplied(ctx context.Context, pos uint64) error {
	for {
		rp.mu.Lock()
		if rp.applied.Load() >= pos {
			rp.mu.Unlock()
			return nil
		}
		if rp.advanced == nil {
			rp.advanced = make(chan struct{})
		}
		ch := rp.advanced
		rp.mu.Unlock()
		select {
		case <-ch:
		case <-rp.exited:
			return rp.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// resynced is for a replicated engine whose check of an event failed
// against its definitions: one made on another replica may not be applied
// here yet. It syncs, and reports whether the definitions changed, so the
// check is worth running again.
func (e *Engine) resynced(ctx context.Context, err error) bool {
	if e.repl == nil || !errors.Is(err, ErrInvalid) {
		return false
	}
	before := e.cat.Load()
	return e.Sync(ctx) == nil && e.cat.Load() != before
}

// Sync returns once this engine has applied and committed every write
// acknowledged anywhere before the call, so that what follows — reads, and
// the checks a write makes before it is proposed — sees them. (An event
// that fails its check on a replicated engine syncs and is checked once
// more by itself.) On a replicated engine Sync is a barrier through the
// shared log (one record of it), so a replica cut off from the log gets
// ErrUnavailable; on a local engine it is Flush.
func (e *Engine) Sync(ctx context.Context) error {
	if e.repl == nil {
		return e.Flush(ctx)
	}
	if err := e.live(); err != nil {
		return err
	}
	_, err := e.exec(ctx, e.now(), syncOp.cmd(struct{}{}))
	return err
}

// syncOp is Sync's barrier: it changes nothing, and is applied, like every
// command but events, once everything before it has landed.
var syncOp = newOp("engine.sync", func(*txn, struct{}) (any, error) { return nil, nil })

// replicaKey marks, in Meta, a file that follows a replicated log. Its
// positions are the shared log's: a local engine writing to it would part
// from the log for good, and a replica following the log from a file a
// local engine wrote would apply the log over changes no other replica has.
var replicaKey = []byte("replica")

// checkReplicaFile refuses, before anything is written, a replica's file
// opened without Options.Replication and a locally written file (it has a
// command log, or a checkpoint of one) opened with it; a new file opened as
// a replica is marked by its first commit.
func (e *Engine) checkReplicaFile() error {
	var marked bool
	if err := e.db.View(func(tx *store.Tx) error {
		marked = tx.Get(store.Meta, replicaKey) != nil
		return nil
	}); err != nil {
		return err
	}
	_, err := os.Stat(logDir(e.path))
	logged := err == nil
	switch {
	case e.repl == nil && marked:
		return fmt.Errorf("%w: the file is a replica's (it follows a replicated log): open it with Options.Replication; a local engine writing to it would part from the log", ErrConflict)
	case e.repl != nil && !marked && (logged || e.db.CheckpointPosition() > 0):
		return fmt.Errorf("%w: the file was written by a local engine, and its changes are not in the replicated log: start the replica from a new file (and import an export into it)", ErrConflict)
	case e.repl != nil && !marked:
		e.w.markReplica = true
	}
	return nil
}
