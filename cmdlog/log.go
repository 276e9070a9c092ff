package cmdlog

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// SegmentSizeDefault is Options.SegmentSize when it is 0: 64 MiB.
const SegmentSizeDefault = 64 << 20

// flushSize bounds the bytes Append gathers before a write: a batch of small
// records is one write, a batch of large ones a few.
const flushSize = 1 << 20

// padSize is the zeros Append writes past the last frame of the active
// segment once its frames reach the end of the zeros written before. An
// append into zeros already on disk leaves the file's size alone, so its
// fsync writes no metadata: measured on ext4, about a quarter less time per
// fsync (bench/RESULTS.md, BenchmarkCmdlogSyncPaired).
const padSize = 1 << 20

// Options configure Open. The zero value is the default.
type Options struct {
	// SegmentSize is the size at which a segment is closed: the next Append
	// starts a new one. A segment may exceed it by the last Append's records.
	// Default SegmentSizeDefault (64 MiB).
	SegmentSize int64
	// NoSync makes Sync, Open's truncation, segment rotation, SetNext and Trim
	// skip every fsync: for benchmarks of CPU cost only, with no guarantee
	// after a crash.
	NoSync bool
	// BeforeSync, when set, runs before each fsync (of a segment or of the
	// directory); a non-nil error is reported as that fsync's failure, and
	// poisons the log. A fault-injection seam.
	BeforeSync func() error
	// BeforeWrite, when set, runs before each write of p to the active
	// segment; a non-nil error makes the log write only p[:n] (a short write)
	// and report err as the write's failure, as a full disk (ENOSPC) would.
	// A fault-injection seam.
	BeforeWrite func(p []byte) (n int, err error)
}

// segment is one file of the log.
type segment struct {
	first uint64 // position of its first record: its name
	size  int64  // bytes of whole frames
}

// Log is a command log open on a directory. See the package documentation
// for which methods may run concurrently.
type Log struct {
	dir  string
	opts Options

	// mu guards segs, next and closed: they are changed by the writing
	// goroutine and read by Read, First, Last and Size. Append holds it while
	// it writes, so a Read's snapshot never ends inside a frame.
	mu     sync.Mutex
	segs   []segment // in position order; the last is the active one
	next   uint64    // position of the next record
	closed bool

	// Owned by the writing goroutine.
	active   *os.File // the last segment, open for writing; nil before the first segment exists
	dirty    bool     // active has writes not yet fsynced
	dirDirty bool     // a segment was created or removed since the directory's last fsync
	failed   error    // set by a failed fsync: the log is poisoned
	buf      []byte
	zeros    []byte // padSize zeros, once the first pad needs them
	torn     int64  // bytes Open cut from the last segment
	padEnd   int64  // the active segment's file size: zeros from its frames' end to here
}

// Open opens the log in dir, creating the directory if needed, and checks
// every segment (see the package documentation for the rule on torn tails).
func Open(dir string, opts Options) (*Log, error) {
	if opts.SegmentSize < 0 {
		return nil, fmt.Errorf("cmdlog: invalid Options.SegmentSize (%d): must be positive, or 0 for the default", opts.SegmentSize)
	}
	if opts.SegmentSize == 0 {
		opts.SegmentSize = SegmentSizeDefault
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cmdlog: open %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cmdlog: open %s: %w", dir, err)
	}
	l := &Log{dir: dir, opts: opts, next: 1}
	for _, e := range entries {
		first, ok := parseSegmentName(e.Name())
		if !ok {
			continue
		}
		if !e.Type().IsRegular() {
			return nil, fmt.Errorf("cmdlog: open %s: segment %s is not a regular file", dir, e.Name())
		}
		if first == 0 {
			return nil, &CorruptError{e.Name(), 0, "position 0 in the name: positions start at 1"}
		}
		l.segs = append(l.segs, segment{first: first})
	}
	slices.SortFunc(l.segs, func(a, b segment) int { return cmp.Compare(a.first, b.first) })
	if err := l.scanAll(); err != nil {
		if l.active != nil {
			l.active.Close()
		}
		return nil, err
	}
	return l, nil
}

// scanAll checks every segment, sets sizes and next, opens the last segment
// for writing and, only once everything else is known good, cuts its torn tail.
func (l *Log) scanAll() error {
	for i := range l.segs {
		s := &l.segs[i]
		name := segmentName(s.first)
		if i > 0 && s.first != l.next {
			return &CorruptError{name, 0, fmt.Sprintf("starts at position %d, but the previous segment ends at %d", s.first, l.next-1)}
		}
		last := i == len(l.segs)-1
		flag := os.O_RDONLY
		if last {
			flag = os.O_RDWR
		}
		f, err := os.OpenFile(l.path(s.first), flag, 0)
		if err != nil {
			return fmt.Errorf("cmdlog: open segment: %w", err)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return fmt.Errorf("cmdlog: open segment: %w", err)
		}
		size := fi.Size()
		res, err := checkSegment(f, size, name, s.first, last)
		if err != nil {
			f.Close()
			return err
		}
		s.size, l.next = res.end, res.next
		if !last {
			f.Close()
			continue
		}
		l.active, l.padEnd = f, res.end
		if res.end < size { // a torn tail, zeros, or both
			if err := f.Truncate(res.end); err != nil {
				return fmt.Errorf("cmdlog: truncate the torn tail of %s at offset %d: %w", name, res.end, err)
			}
			if err := l.fsync(f); err != nil {
				return fmt.Errorf("cmdlog: truncate the torn tail of %s at offset %d: %w", name, res.end, err)
			}
			l.torn = res.torn
		}
	}
	return nil
}

// Append writes recs at consecutive positions after Last and returns the
// position of the last one (Last when recs is empty). The records are one
// write where they fit in 1 MiB. Append does not fsync, except when it
// starts a new segment (it fsyncs the full one first); Sync makes them
// durable. A record over MaxRecord fails the call (ErrTooLarge) before
// anything is written. A failed write is truncated back: none of recs is in
// the log.
func (l *Log) Append(recs ...[]byte) (last uint64, err error) {
	if err := l.usable(); err != nil {
		return 0, err
	}
	for i, r := range recs {
		if len(r) > MaxRecord {
			return 0, fmt.Errorf("cmdlog: append record %d of %d: %d bytes, over MaxRecord (%d): %w", i+1, len(recs), len(r), MaxRecord, ErrTooLarge)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(recs) == 0 {
		return l.next - 1, nil
	}
	if l.active == nil || l.segs[len(l.segs)-1].size >= l.opts.SegmentSize {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	seg := &l.segs[len(l.segs)-1]
	start, off := seg.size, seg.size
	pos := l.next
	buf := l.buf[:0]
	for _, r := range recs {
		buf = appendFrame(buf, pos, r)
		pos++
		if len(buf) >= flushSize {
			if err := l.write(buf, off); err != nil {
				return 0, l.undo(start, err)
			}
			off += int64(len(buf))
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		if err := l.write(buf, off); err != nil {
			return 0, l.undo(start, err)
		}
		off += int64(len(buf))
	}
	if cap(buf) <= 4*flushSize { // a batch of huge records does not pin its buffer
		l.buf = buf[:0]
	}
	seg.size, l.next, l.dirty = off, pos, true
	if off > l.padEnd {
		l.pad(off)
	}
	return pos - 1, nil
}

// pad writes padSize zeros at off, the end of the active segment's frames,
// which has passed the zeros written before. It is room made ahead, not
// data: a failure (a full disk) is left for the next Append's write to meet,
// and a crash before the next fsync leaves zeros or nothing, which Open
// reads as the end of the frames either way.
func (l *Log) pad(off int64) {
	if l.zeros == nil {
		l.zeros = make([]byte, padSize)
	}
	n, _ := l.active.WriteAt(l.zeros, off)
	l.padEnd = off + int64(n)
}

// write writes p at off in the active segment, through Options.BeforeWrite.
func (l *Log) write(p []byte, off int64) error {
	if l.opts.BeforeWrite != nil {
		if n, err := l.opts.BeforeWrite(p); err != nil {
			if n = min(max(n, 0), len(p)); n > 0 {
				l.active.WriteAt(p[:n], off) // the short write being simulated
			}
			return err
		}
	}
	_, err := l.active.WriteAt(p, off)
	return err
}

// undo truncates the active segment back to off after a failed write, so
// no part of the failed Append is read back, now or after a reopen.
func (l *Log) undo(off int64, werr error) error {
	name := segmentName(l.segs[len(l.segs)-1].first)
	if err := l.active.Truncate(off); err != nil {
		l.failed = fmt.Errorf("cmdlog: append to %s at offset %d: %w; truncating back failed: %w", name, off, werr, err)
		return l.failed
	}
	l.padEnd = off
	return fmt.Errorf("cmdlog: append to %s at offset %d: %w", name, off, werr)
}

// cutPadding truncates the active segment's file to its frames, so that
// a full or closed segment ends at its last frame.
func (l *Log) cutPadding() error {
	if l.active == nil || l.failed != nil {
		return nil
	}
	if end := l.segs[len(l.segs)-1].size; l.padEnd > end {
		if err := l.active.Truncate(end); err != nil {
			return fmt.Errorf("cmdlog: cut the padding of %s: %w", l.active.Name(), err)
		}
		l.padEnd, l.dirty = end, true
	}
	return nil
}

// rotate starts a new segment at l.next. The full segment and, if needed,
// the directory are fsynced first, so a segment that has a successor is
// complete on disk whatever happens next. Called with l.mu held.
func (l *Log) rotate() error {
	if l.active != nil {
		if err := l.cutPadding(); err != nil {
			return err
		}
		if err := l.syncActive(); err != nil {
			return err
		}
	}
	if err := l.syncDir(); err != nil {
		return err
	}
	f, err := os.OpenFile(l.path(l.next), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("cmdlog: create segment: %w", err)
	}
	if l.active != nil {
		l.active.Close()
	}
	l.active, l.dirDirty, l.padEnd = f, true, 0
	l.segs = append(l.segs, segment{first: l.next})
	return nil
}

// Sync makes every record appended so far durable: it fsyncs the active
// segment and, after a new segment, the directory. A failed fsync poisons
// the log (see the package documentation).
func (l *Log) Sync() error {
	if err := l.usable(); err != nil {
		return err
	}
	if l.dirty {
		if err := l.syncActive(); err != nil {
			return err
		}
	}
	return l.syncDir()
}

// syncActive fsyncs the active segment if it has unsynced writes.
func (l *Log) syncActive() error {
	if !l.dirty {
		return nil
	}
	if err := l.fsync(l.active); err != nil {
		return l.poison(fmt.Errorf("cmdlog: fsync %s: %w", l.active.Name(), err))
	}
	l.dirty = false
	return nil
}

// syncDir fsyncs the directory if a segment was created or removed since it
// last was: without it, a new segment's name might not survive a crash.
func (l *Log) syncDir() error {
	if !l.dirDirty {
		return nil
	}
	if !l.opts.NoSync {
		d, err := os.Open(l.dir)
		if err != nil {
			return fmt.Errorf("cmdlog: fsync directory: %w", err)
		}
		err = l.fsync(d)
		d.Close()
		if err != nil {
			return l.poison(fmt.Errorf("cmdlog: fsync directory %s: %w", l.dir, err))
		}
	}
	l.dirDirty = false
	return nil
}

// fsync runs Options.BeforeSync, then f.Sync, unless Options.NoSync.
func (l *Log) fsync(f *os.File) error {
	if l.opts.NoSync {
		return nil
	}
	if l.opts.BeforeSync != nil {
		if err := l.opts.BeforeSync(); err != nil {
			return err
		}
	}
	return f.Sync()
}

// poison records a failed fsync. Linux reports a writeback error once and
// marks the pages it could not write clean, so they may be dropped: a
// retried fsync then succeeds without having written them, and reporting
// that success would acknowledge records that are not on disk. Only a
// reopen, which reads back what the files hold, ends it.
func (l *Log) poison(err error) error {
	l.failed = fmt.Errorf("%w (the log is unusable until reopened)", err)
	return l.failed
}

// usable reports why the log cannot take a write: closed, or poisoned.
func (l *Log) usable() error {
	if l.closed {
		return ErrClosed
	}
	return l.failed
}

// First returns the position of the first record in the log, or 0 if it
// holds none.
func (l *Log) First() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.segs) == 0 || l.segs[0].first == l.next {
		return 0
	}
	return l.segs[0].first
}

// Last returns the position of the last record appended: the one before
// the position the next Append gets, so 0 for a new log and pos-1 after
// SetNext(pos).
func (l *Log) Last() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next - 1
}

// SetNext makes pos the position of the next Append. The log must hold no
// record (First() == 0): it is how a log opened beside a checkpoint at
// position P that lost its segments continues at P+1. The position is
// durable when SetNext returns (a new, empty segment named after it).
func (l *Log) SetNext(pos uint64) error {
	if err := l.usable(); err != nil {
		return err
	}
	if pos == 0 {
		return errors.New("cmdlog: invalid SetNext position (0): positions start at 1")
	}
	if first := l.First(); first != 0 {
		return fmt.Errorf("cmdlog: SetNext(%d) on a log holding records %d to %d: only an empty log can move", pos, first, l.Last())
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.active != nil { // an empty segment: the only one
		if err := l.active.Close(); err != nil {
			return fmt.Errorf("cmdlog: SetNext: %w", err)
		}
		l.active = nil
		if err := os.Remove(l.path(l.segs[0].first)); err != nil {
			return fmt.Errorf("cmdlog: SetNext: %w", err)
		}
		l.segs, l.dirty, l.dirDirty = nil, false, true
	}
	l.next = pos
	if err := l.rotate(); err != nil {
		return err
	}
	return l.syncDir()
}

// Read calls fn for every record at position from or after, in order; rec
// is valid only during fn. Records before First are gone (trimmed), so the
// first call may be for a later position than from. Read sees the records
// appended before it started. An error of fn stops it and is returned as it
// is; damage is a *CorruptError.
func (l *Log) Read(from uint64, fn func(pos uint64, rec []byte) error) error {
	type part struct {
		segment
		f *os.File
	}
	var parts []part
	defer func() {
		for _, p := range parts {
			p.f.Close()
		}
	}()
	// The files are opened under the lock, so a Trim that runs meanwhile
	// removes only names: the open files stay readable.
	err := func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.closed {
			return ErrClosed
		}
		for i, s := range l.segs {
			end := l.next // first position after s
			if i+1 < len(l.segs) {
				end = l.segs[i+1].first
			}
			if end <= from || end == s.first {
				continue
			}
			f, err := os.Open(l.path(s.first))
			if err != nil {
				return fmt.Errorf("cmdlog: read: %w", err)
			}
			parts = append(parts, part{s, f})
		}
		return nil
	}()
	if err != nil {
		return err
	}
	for i, p := range parts {
		name := segmentName(p.first)
		res, err := scan(p.f, p.size, name, p.first, func(pos uint64, rec []byte) error {
			if pos < from {
				return nil
			}
			return fn(pos, rec)
		})
		if err != nil {
			return err
		}
		if res.bad != "" {
			return &CorruptError{name, res.end, res.bad}
		}
		if i+1 < len(parts) && res.next != parts[i+1].first {
			return &CorruptError{segmentName(parts[i+1].first), 0, fmt.Sprintf("starts at position %d, but the previous segment ends at %d", parts[i+1].first, res.next-1)}
		}
	}
	return nil
}

// Trim removes the segments whose records are all at or before upTo, oldest
// first, never the active one, then fsyncs the directory. Records after upTo
// stay, and so may some before it that share a segment with them.
func (l *Log) Trim(upTo uint64) error {
	if l.closed {
		return ErrClosed
	}
	l.mu.Lock()
	n := 0
	for n+1 < len(l.segs) && l.segs[n+1].first-1 <= upTo {
		n++
	}
	gone := slices.Clone(l.segs[:n])
	l.segs = slices.Delete(l.segs, 0, n)
	l.mu.Unlock()
	if n == 0 {
		return nil
	}
	l.dirDirty = true
	for _, s := range gone {
		if err := os.Remove(l.path(s.first)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cmdlog: trim: %w", err)
		}
	}
	return l.syncDir()
}

// Size returns the bytes of the log's segments.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// TruncatedTail returns the bytes Open cut from the end of the last segment
// as a torn tail, its trailing zeros not counted (0 if none).
func (l *Log) TruncatedTail() int64 { return l.torn }

// Close syncs what was appended (as Sync does, so a poisoned log returns its
// error) and closes the log. Later calls return ErrClosed; Close itself is
// idempotent.
func (l *Log) Close() error {
	if l.closed {
		return nil
	}
	err := l.cutPadding()
	if serr := l.Sync(); err == nil {
		err = serr
	}
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	if l.active != nil {
		if cerr := l.active.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("cmdlog: close: %w", cerr)
		}
	}
	return err
}

func (l *Log) path(first uint64) string { return filepath.Join(l.dir, segmentName(first)) }
