package cmdlog

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

var errInjected = errors.New("injected EIO")

// TestFsyncErrorPoisons: after a failed fsync every Append and Sync returns
// that error, even once fsync would succeed again, until the log is
// reopened; the records synced before are all there after the reopen.
func TestFsyncErrorPoisons(t *testing.T) {
	dir := t.TempDir()
	fail := false
	l, err := Open(dir, Options{BeforeSync: func() error {
		if fail {
			return errInjected
		}
		return nil
	}})
	require.NoError(t, err)
	appendRange(t, l, 1, 10)

	fail = true
	_, err = l.Append(payload(11))
	require.NoError(t, err, "Append does not fsync")
	require.ErrorIs(t, l.Sync(), errInjected)

	fail = false // a retried fsync would now succeed, without the lost pages
	_, err = l.Append(payload(12))
	require.ErrorIs(t, err, errInjected)
	require.ErrorContains(t, err, "until reopened")
	require.ErrorIs(t, l.Sync(), errInjected)
	require.ErrorIs(t, l.SetNext(100), errInjected)
	require.Equal(t, uint64(11), l.Last())
	requireRecords(t, l, 1, 11) // Read still works
	require.ErrorIs(t, l.Close(), errInjected)

	l = openLog(t, dir, Options{})
	got := readAll(t, l, 0)
	require.GreaterOrEqual(t, len(got), 10, "every synced record survives")
	requireRecords(t, l, 1, uint64(len(got)))
	last, err := l.Append(payload(uint64(len(got) + 1)))
	require.NoError(t, err, "a reopened log is usable")
	require.Equal(t, uint64(len(got)+1), last)
	require.NoError(t, l.Sync())
}

// TestRotationSyncs: starting a segment fsyncs the full one before the new
// file exists (so a segment with a successor is complete on disk), and the
// next Sync fsyncs the new segment and the directory; a failure of either
// poisons the log.
func TestRotationSyncs(t *testing.T) {
	dir := t.TempDir()
	var calls []bool // for each fsync: did the second segment (at 3) exist yet
	failAt := -1
	l := openLog(t, dir, Options{SegmentSize: 200, BeforeSync: func() error {
		_, err := os.Stat(filepath.Join(dir, segmentName(3)))
		calls = append(calls, err == nil)
		if len(calls)-1 == failAt {
			return errInjected
		}
		return nil
	}})
	_, err := l.Append(make([]byte, 100))
	require.NoError(t, err)
	require.Empty(t, calls, "Append does not fsync")
	require.NoError(t, l.Sync())
	require.Equal(t, []bool{false, false}, calls, "the new segment 1, then the directory")
	require.NoError(t, l.Sync())
	require.Len(t, calls, 2, "nothing to sync")

	_, err = l.Append(make([]byte, 100)) // segment 1 now full, not synced
	require.NoError(t, err)
	calls = nil
	_, err = l.Append([]byte("two"))
	require.NoError(t, err)
	require.Equal(t, []bool{false}, calls, "segment 1 fsynced before segment 3 was created")
	require.FileExists(t, filepath.Join(dir, segmentName(3)))
	failAt = 2
	err = l.Sync()
	require.ErrorIs(t, err, errInjected, "the directory's fsync failed")
	require.Equal(t, []bool{false, true, true}, calls, "segment 3, then the directory")
	_, err = l.Append([]byte("three"))
	require.ErrorIs(t, err, errInjected)
}

// TestRotationFsyncErrorPoisons: the fsync of a full segment fails; the
// Append that needed it writes nothing and creates no segment.
func TestRotationFsyncErrorPoisons(t *testing.T) {
	dir := t.TempDir()
	fail := false
	l := openLog(t, dir, Options{SegmentSize: 100, BeforeSync: func() error {
		if fail {
			return errInjected
		}
		return nil
	}})
	_, err := l.Append(make([]byte, 100))
	require.NoError(t, err)
	fail = true
	_, err = l.Append([]byte("next"))
	require.ErrorIs(t, err, errInjected)
	require.Equal(t, uint64(1), l.Last())
	require.Equal(t, []uint64{1}, segmentFiles(t, dir))
	fail = false
	_, err = l.Append([]byte("next"))
	require.ErrorIs(t, err, errInjected, "poisoned")
}

// TestShortWriteLeavesNoHalfRecord: a write that fails after any number of
// bytes (ENOSPC) leaves the log as it was, now and after a reopen without
// Close (a crash), and the next Append goes on at the same position.
func TestShortWriteLeavesNoHalfRecord(t *testing.T) {
	dir := t.TempDir()
	short := -1 // bytes the next write keeps before failing; -1: no fault
	l := openLog(t, dir, Options{BeforeWrite: func(p []byte) (int, error) {
		if short < 0 {
			return len(p), nil
		}
		n := short
		short = -1
		return n, syscall.ENOSPC
	}})
	appendRange(t, l, 1, 5)
	size := l.Size()
	path := filepath.Join(dir, segmentName(1))
	batch := 2*headerSize + len(payload(6)) + len(payload(7))
	for n := 0; n < batch; n++ {
		short = n
		_, err := l.Append(payload(6), payload(7))
		require.ErrorIs(t, err, syscall.ENOSPC, "cut at %d", n)
		require.Equal(t, uint64(5), l.Last())
		require.Equal(t, size, l.Size())
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, size, fi.Size(), "cut at %d: truncated back", n)

		crashed := copyDir(t, dir)
		c := openLog(t, crashed, Options{})
		require.Zero(t, c.TruncatedTail(), "cut at %d: nothing torn to cut", n)
		requireRecords(t, c, 1, 5)
		require.NoError(t, c.Close())
	}
	last, err := l.Append(payload(6), payload(7))
	require.NoError(t, err)
	require.Equal(t, uint64(7), last)
	require.NoError(t, l.Close())
	l = openLog(t, dir, Options{})
	requireRecords(t, l, 1, 7)
}

// TestFailedWriteOfLargeBatch: a batch written in several writes fails on a
// later one; the writes that succeeded are undone too.
func TestFailedWriteOfLargeBatch(t *testing.T) {
	writes := 0
	l := openLog(t, t.TempDir(), Options{BeforeWrite: func(p []byte) (int, error) {
		writes++
		if writes == 3 {
			return 10, syscall.ENOSPC
		}
		return len(p), nil
	}})
	appendRange(t, l, 1, 1)
	size := l.Size()
	big := make([]byte, 600<<10)
	_, err := l.Append(big, big, big) // two records fill the first write
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.Equal(t, 3, writes)
	require.Equal(t, size, l.Size())
	require.Equal(t, uint64(1), l.Last())
	requireRecords(t, l, 1, 1)
}

// TestFailedUndoPoisons: when a failed write cannot be truncated back, the
// log is poisoned rather than left with a half record before new ones.
func TestFailedUndoPoisons(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{})
	appendRange(t, l, 1, 3)
	ro, err := os.Open(filepath.Join(dir, segmentName(1)))
	require.NoError(t, err)
	rw := l.active
	l.active = ro // writes and truncation fail on a read-only descriptor
	_, err = l.Append(payload(4))
	require.ErrorContains(t, err, "truncating back failed")
	l.active = rw
	ro.Close()
	_, err = l.Append(payload(4))
	require.ErrorContains(t, err, "truncating back failed", "poisoned")
}

// TestOpenTruncationFsyncFails: Open reports a failed fsync of the torn
// tail's truncation.
func TestOpenTruncationFsyncFails(t *testing.T) {
	dir := buildLog(t, 5, 0)
	path := filepath.Join(dir, segmentName(1))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(path, fi.Size()-1))
	_, err = Open(dir, Options{BeforeSync: func() error { return errInjected }})
	require.ErrorIs(t, err, errInjected)
	require.ErrorContains(t, err, "torn tail")
}

// TestCrashKeepsAcknowledged crashes a seeded run of Appends and Syncs at
// random points: the copy of the directory loses a random part of what was
// not synced (the end of the active segment after its last fsync, or the
// whole of a segment created since the directory's last fsync). Open of the
// copy never fails, keeps every record a Sync acknowledged, and holds a
// prefix of the records appended, each whole.
func TestCrashKeepsAcknowledged(t *testing.T) {
	r := rand.New(rand.NewPCG(16, 1))
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentSize: 2000})
	var acked uint64
	var syncedFirst uint64 // the active segment at the last Sync, and its size then
	var syncedSize int64
	var crashes [3]int // by kind: cut after the last fsync, segment lost, new segment cut
	for step := 0; step < 400; step++ {
		if r.IntN(4) == 3 {
			require.NoError(t, l.Sync())
			acked = l.Last()
			active := l.segs[len(l.segs)-1]
			syncedFirst, syncedSize = active.first, active.size
		} else {
			n := 1 + r.IntN(5)
			recs := make([][]byte, n)
			for i := range recs {
				recs[i] = payload(l.Last() + 1 + uint64(i))
			}
			_, err := l.Append(recs...)
			require.NoError(t, err)
		}
		if r.IntN(8) != 0 {
			continue
		}
		crashed := copyDir(t, dir)
		active := l.segs[len(l.segs)-1]
		path := filepath.Join(crashed, segmentName(active.first))
		switch {
		case active.first == syncedFirst:
			crashes[0]++
			require.NoError(t, os.Truncate(path, syncedSize+r.Int64N(active.size-syncedSize+1)))
		case l.dirDirty && r.IntN(2) == 0:
			crashes[1]++
			require.NoError(t, os.Remove(path)) // its name never reached the disk
		default:
			crashes[2]++
			require.NoError(t, os.Truncate(path, r.Int64N(active.size+1)))
		}
		c, err := Open(crashed, Options{SegmentSize: 2000})
		require.NoError(t, err, "crash at step %d", step)
		require.GreaterOrEqual(t, c.Last(), acked, "crash at step %d: acknowledged records kept", step)
		require.LessOrEqual(t, c.Last(), l.Last())
		requireRecords(t, c, 1, c.Last())
		require.NoError(t, c.Close())
	}
	for kind, n := range crashes {
		require.Positive(t, n, "crashes of kind %d", kind)
	}
}
