package gamify

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"sync/atomic"
	"time"

	"github.com/gamifykit/gamify/cmdlog"
)

// The command log is the source of truth; the database file is its
// checkpoint. A batch is durable once its commands are in the log
// (writer.go); its writes are staged in memory, where every reader sees
// them, and a checkpoint folds everything staged into the file in one
// transaction that records the log position it folds, after which the log
// is trimmed up to there. Open replays the log after the checkpoint's
// position, so a crash costs the replay of what the last checkpoint had not
// folded: bounded by Options.CheckpointInterval and CheckpointSize.
//
// The log lives beside the file, in the directory path + ".log"; a clean
// Close folds it into the file and removes it. It belongs to that file: a
// file restored from a backup next to the log of a crashed engine is rolled
// forward by the log's newer commands if the log continues the backup's
// position, and refused if it does not.

// commandLog is what the engine needs of its log: *cmdlog.Log is the local
// one. It is the seam a replicated log (a stream whose positions are the
// stream's) plugs into. Append, Sync, Trim and Close are called by the
// committer alone; Read at Open, before it appends.
type commandLog interface {
	Append(recs ...[]byte) (last uint64, err error)
	Sync() error
	Read(from uint64, fn func(pos uint64, rec []byte) error) error
	Trim(upTo uint64) error
	First() uint64
	Last() uint64
	Size() int64
	Close() error
}

var _ commandLog = (*cmdlog.Log)(nil)

// logDir is where the command log of the database at path lives.
func logDir(path string) string { return path + ".log" }

// checkpointer runs checkpoints on its own goroutine, so a long one never
// stalls the committer.
type checkpointer struct {
	kick    chan struct{}
	stop    chan struct{}
	exited  chan struct{}
	started bool          // the goroutine runs (set by Open, read by Close)
	folded  atomic.Uint64 // a position folded by a checkpoint, for the committer to trim the log to
	count   atomic.Uint64 // checkpoints done
	failed  atomic.Uint64 // checkpoints failed
	last    atomic.Int64  // duration of the last checkpoint, ns
	at      atomic.Int64  // when the last one ended (or the checkpointer started), Unix ns
	// retryAt is when a failed checkpoint may be retried (Unix ns; 0 after
	// a success): a failure changes nothing staged, so the size that made
	// it due would otherwise start one after every batch.
	retryAt atomic.Int64
}

// logTag is the tag of the store's position record at a command's log
// position (store.Tx.TagPosition): the CRC-32C of its record. With it Open
// tells the file's own log from that of a copy of the file that went
// another way after the same position, whose commands would otherwise
// replay onto it.
func logTag(rec []byte) positionTag {
	return positionTag{crc32.Checksum(rec, castagnoli), true}
}

// positionTag is a tag for the store's position record, if ok.
type positionTag struct {
	v  uint32
	ok bool
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// openLog opens the command log and checks that it continues the file's
// checkpoint.
func (e *Engine) openLog() error {
	l, err := cmdlog.Open(logDir(e.path), cmdlog.Options{NoSync: e.opts.noSync, BeforeSync: e.opts.beforeLogSync})
	if errors.Is(err, cmdlog.ErrCorrupt) {
		return fmt.Errorf("%w: command log: %w", ErrCorrupt, err)
	}
	if err != nil {
		return fmt.Errorf("command log: %w", err)
	}
	cp := e.db.CheckpointPosition()
	switch first, last := l.First(), l.Last(); {
	case last == 0 || (first == 0 && last <= cp):
		// A new log, or one that holds nothing the file lacks.
		if last < cp {
			if err := l.SetNext(cp + 1); err != nil {
				l.Close()
				return err
			}
		}
	case last < cp:
		l.Close()
		return fmt.Errorf("%w: the command log ends at position %d, before the file's checkpoint at %d: it belongs to another file", ErrCorrupt, last, cp)
	case first > cp+1:
		l.Close()
		return fmt.Errorf("%w: the command log starts at position %d, but the file's checkpoint folds only up to %d: commands are missing", ErrCorrupt, first, cp)
	}
	e.log = l
	return nil
}

// replay applies the commands of the log that the file's checkpoint does
// not hold, in order, before anything else runs.
func (e *Engine) replay() error {
	cp := e.db.CheckpointPosition()
	if e.log.Last() <= cp {
		return nil
	}
	// The record at the checkpoint's position, if the log still holds it,
	// must be the one the file folded (its tag), else the log is another
	// copy's: read in the same pass as the replay.
	want, check := e.db.FileTag()
	check = check && cp > 0 && e.log.First() != 0 && e.log.First() <= cp
	from := cp + 1
	if check {
		from = cp
	}
	var n, failed int
	start := time.Now()
	err := e.log.Read(from, func(pos uint64, rec []byte) error {
		if pos == cp {
			if logTag(rec).v != want {
				return fmt.Errorf("%w: the command log's record at position %d is not the command the file's checkpoint folded there: the log belongs to another copy of the file", ErrCorrupt, cp)
			}
			return nil
		}
		c, now, err := decodeCommand(rec)
		if err != nil {
			return fmt.Errorf("%w: command log record %d: %w", ErrCorrupt, pos, err)
		}
		n++
		res, err := e.applyLogged(pos, c, now, false, logTag(rec))
		if err != nil {
			return err
		}
		if err := res.err; err != nil {
			// A command that applied once and not now means apply is not
			// deterministic: a bug, reported, and the replay goes on.
			failed++
			e.w.log.Error("gamify: a logged command failed at replay", "position", pos, "op", c.(loggable).opName(), "err", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := e.Flush(context.Background()); err != nil {
		return err
	}
	e.w.mu.Lock()
	e.w.stats.replayed, e.w.stats.replayFailed = uint64(n), uint64(failed)
	e.w.mu.Unlock()
	e.w.log.Info("gamify: replayed the command log", "commands", n, "failed", failed, "took", time.Since(start))
	return nil
}

// applyLogged applies c, read from a log at position pos, as it ran live.
// Events ride in group commits (landed, if it was a Durable caller's
// event: res.done answers then). Any other command applies once all
// before it has landed and lands before the next one applies: an admin
// change waits for its commit, and a job or an acknowledgement reads what
// is committed. err is a failure to land what came before; res.err the
// command's own.
func (e *Engine) applyLogged(pos uint64, c command, now time.Time, landed bool, tag positionTag) (res appliedResult, err error) {
	r := &request{cmd: c, now: now, replay: pos, replayTag: tag}
	if _, track := c.(*trackCmd); track {
		r.flush, r.durable = true, landed
		res.val, res.err = e.enqueue(r)
		if res.err == nil {
			res.done = r.done
		}
		return res, nil
	}
	if err := e.Flush(context.Background()); err != nil {
		return res, err
	}
	r.durable = true
	res.val, res.err = e.submit(context.Background(), r)
	return res, nil
}

// newCheckpointer makes the checkpointer's channels, before the committer
// starts (it kicks the checkpointer from its first batch on).
func newCheckpointer() checkpointer {
	return checkpointer{kick: make(chan struct{}, 1), stop: make(chan struct{}), exited: make(chan struct{})}
}

// startCheckpointer starts the checkpoint goroutine, once the log is
// replayed.
func (e *Engine) startCheckpointer() {
	c := &e.ckpt
	c.started = true
	c.at.Store(time.Now().UnixNano())
	go func() {
		defer close(c.exited)
		t := time.NewTimer(e.opts.CheckpointInterval)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-c.kick:
				if time.Now().UnixNano() < c.retryAt.Load() {
					continue // kicked before the failure that set it
				}
			case <-t.C:
			}
			e.checkpoint()
			t.Reset(e.opts.CheckpointInterval)
		}
	}()
}

// checkpoint folds what is staged into the file. A failure keeps it staged
// for the next one.
func (e *Engine) checkpoint() error {
	start := time.Now()
	pos, err := e.db.Checkpoint()
	if err != nil {
		e.ckpt.failed.Add(1)
		e.ckpt.retryAt.Store(time.Now().Add(e.opts.CheckpointInterval).UnixNano())
		e.w.log.Warn("gamify: checkpoint failed; the command log keeps everything since the last one", "err", err)
		return err
	}
	e.ckpt.last.Store(int64(time.Since(start)))
	e.ckpt.at.Store(time.Now().UnixNano())
	e.ckpt.retryAt.Store(0)
	e.ckpt.count.Add(1)
	e.ckpt.folded.Store(pos)
	return nil
}

// afterBatch runs on the committer after each batch: it trims the log once
// a checkpoint folded it, and starts a checkpoint once enough is staged
// (after a failed one, not before CheckpointInterval has passed).
func (e *Engine) afterBatch() {
	if pos := e.ckpt.folded.Swap(0); pos != 0 {
		if err := e.log.Trim(pos); err != nil {
			e.w.log.Warn("gamify: trim the command log", "err", err)
		}
	}
	policy := cmdlog.Policy{Interval: e.opts.CheckpointInterval, Size: e.opts.CheckpointSize}
	now := time.Now()
	if _, size := e.db.Staged(); policy.Due(time.Unix(0, e.ckpt.at.Load()), now, size) && now.UnixNano() >= e.ckpt.retryAt.Load() {
		select {
		case e.ckpt.kick <- struct{}{}:
		default:
		}
	}
}

// appendLog makes the batch's commands durable: one append, then one fsync,
// which runs while the caller stages the batch; synced reports its outcome.
// A *landedFault from synced comes with the position: the records are in
// the log.
func (e *Engine) appendLog(b *batch) (pos uint64, synced <-chan error, err error) {
	var late *landedFault
	if f := e.opts.beforeCommit; f != nil {
		if err := f(); err != nil && !errors.As(err, &late) {
			return 0, nil, fmt.Errorf("command log: %w", err)
		}
	}
	last, err := e.log.Append(b.recs()...)
	if err != nil {
		return 0, nil, fmt.Errorf("command log: %w", err)
	}
	done := make(chan error, 1)
	go func() {
		switch err := e.log.Sync(); {
		case err != nil:
			done <- fmt.Errorf("command log: %w", err)
		case late != nil:
			done <- late
		default:
			done <- nil
		}
	}()
	return last, done, nil
}

// landedFault, returned by the beforeCommit test seam, lets the batch reach
// the log and is then reported as its commit's failure: an fsync of unknown
// outcome. When an fsync fails, the records are likely in the page cache and
// reach the disk anyway; a caller told of the failure can rely on nothing
// about the batch. The engine stages it as landed (it will be replayed from
// the log) and reloads its working state, so reads agree with the log, and a
// retry with the same idempotency key replays.
type landedFault struct{ err error }

func (f *landedFault) Error() string { return "commit (outcome unknown): " + f.err.Error() }
func (f *landedFault) Unwrap() error { return f.err }

// closeLog stops the checkpointer, folds everything into the file and
// removes the log, which then holds nothing the file lacks: a clean Close
// leaves no command of a hard-deleted user in it. The committer has exited.
func (e *Engine) closeLog() error {
	if e.log == nil {
		return nil
	}
	if e.ckpt.started {
		close(e.ckpt.stop)
		<-e.ckpt.exited
	}
	err := e.checkpoint()
	if cerr := e.log.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("gamify: close: %w (the command log keeps what the file lacks; Open replays it)", err)
	}
	if e.repl != nil {
		return nil // the shared log is not this file's to remove
	}
	if err := os.RemoveAll(logDir(e.path)); err != nil {
		return fmt.Errorf("gamify: close: remove the folded command log: %w", err)
	}
	return nil
}
