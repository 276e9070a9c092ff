package cmdlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// payload is record pos's deterministic content, 0 to 150 bytes long.
func payload(pos uint64) []byte {
	r := rand.New(rand.NewPCG(pos, 7))
	b := make([]byte, r.IntN(151))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// record is one record read back.
type record struct {
	pos uint64
	rec []byte
}

func readAll(t *testing.T, l *Log, from uint64) []record {
	t.Helper()
	var got []record
	require.NoError(t, l.Read(from, func(pos uint64, rec []byte) error {
		got = append(got, record{pos, slices.Clone(rec)})
		return nil
	}))
	return got
}

// requireRecords asserts that l holds exactly the records first..last, with
// their payloads.
func requireRecords(t *testing.T, l *Log, first, last uint64) {
	t.Helper()
	got := readAll(t, l, 0)
	require.Len(t, got, int(last-first+1), "records %d..%d", first, last)
	for i, r := range got {
		pos := first + uint64(i)
		require.Equal(t, pos, r.pos)
		require.Equal(t, payload(pos), r.rec, "payload of %d", pos)
	}
	require.Equal(t, last, l.Last())
	if last >= first {
		require.Equal(t, first, l.First())
	}
}

// appendRange appends records from..to in batches of 1 to 7 and returns the
// last position.
func appendRange(t *testing.T, l *Log, from, to uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(from, to))
	for pos := from; pos <= to; {
		n := min(uint64(1+r.IntN(7)), to-pos+1)
		var batch [][]byte
		for i := range n {
			batch = append(batch, payload(pos+i))
		}
		last, err := l.Append(batch...)
		require.NoError(t, err)
		require.Equal(t, pos+n-1, last)
		pos += n
	}
	require.NoError(t, l.Sync())
}

func openLog(t *testing.T, dir string, opts Options) *Log {
	t.Helper()
	l, err := Open(dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

// segmentFiles lists the segment files of dir with their first positions.
func segmentFiles(t *testing.T, dir string) []uint64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var firsts []uint64
	for _, e := range entries {
		if first, ok := parseSegmentName(e.Name()); ok {
			firsts = append(firsts, first)
		}
	}
	return firsts
}

// snapshot returns the name and content of every file in dir.
func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	m := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		m[e.Name()] = b
	}
	return m
}

func TestRoundTripAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentSize: 512})
	require.Equal(t, uint64(0), l.First())
	require.Equal(t, uint64(0), l.Last())
	appendRange(t, l, 1, 300)
	requireRecords(t, l, 1, 300)
	firsts := segmentFiles(t, dir)
	require.Greater(t, len(firsts), 10, "segments of 512 bytes")
	require.Equal(t, uint64(1), firsts[0])

	var onDisk int64
	for i, first := range firsts {
		// Each segment starts with the record its name says; full ones end
		// at their last frame, and the active one's file goes on in zeros
		// (padSize of them, its room made ahead).
		b, err := os.ReadFile(filepath.Join(dir, segmentName(first)))
		require.NoError(t, err)
		res, err := scan(bytes.NewReader(b), int64(len(b)), segmentName(first), first, nil)
		require.NoError(t, err)
		onDisk += res.end
		if i+1 < len(firsts) {
			require.Empty(t, res.bad, "a full segment has no padding")
			require.Equal(t, firsts[i+1], res.next, "segment %d ends where the next begins", first)
			require.GreaterOrEqual(t, len(b), 512, "a segment is closed once full")
		} else {
			require.Equal(t, "zeros", res.bad, "the active segment is padded")
			require.GreaterOrEqual(t, len(b), padSize)
			require.Empty(t, bytes.TrimLeft(b[res.end:], "\x00"))
		}
	}
	require.Equal(t, onDisk, l.Size())

	got := readAll(t, l, 123)
	require.Equal(t, uint64(123), got[0].pos)
	require.Len(t, got, 300-122)

	require.NoError(t, l.Close())
	fi, err := os.Stat(filepath.Join(dir, segmentName(firsts[len(firsts)-1])))
	require.NoError(t, err)
	require.Less(t, fi.Size(), int64(padSize), "Close cuts the padding")
	l = openLog(t, dir, Options{SegmentSize: 512})
	requireRecords(t, l, 1, 300)
	require.Equal(t, onDisk, l.Size())
	require.Zero(t, l.TruncatedTail())
}

// TestZeroedRecordBeforeGoodOnesIsDamage: zeros are padding only when
// nothing but zeros follows them. A record zeroed in the middle of the last
// segment, good records after it, is damage at its offset, and Open changes
// nothing.
func TestZeroedRecordBeforeGoodOnesIsDamage(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{})
	appendRange(t, l, 1, 3)
	at := l.Size()
	appendRange(t, l, 4, 6)
	require.NoError(t, l.Close())
	path := filepath.Join(dir, segmentName(1))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	clear(b[at : at+headerSize+int64(len(payload(4)))])
	require.NoError(t, os.WriteFile(path, b, 0o600))

	_, err = Open(dir, Options{})
	requireCorrupt(t, err, segmentName(1), at, "a zeroed record with good ones after it")
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, b, got, "a refused log is left as it was")
}

// TestPaddingIsNotATornTail: a crash leaves the active segment padded with
// zeros, some of them over an Append that never reached the disk. Open keeps
// every whole frame, reports nothing torn, cuts the zeros, and the next
// Append pads again.
func TestPaddingIsNotATornTail(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{})
	appendRange(t, l, 1, 10)
	require.NoError(t, l.Sync())
	size := l.Size()
	_, err := l.Append(payload(11))
	require.NoError(t, err)
	path := filepath.Join(dir, segmentName(1))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Greater(t, len(b), int(l.Size()), "padded")
	require.Empty(t, bytes.TrimLeft(b[l.Size():], "\x00"), "with zeros")
	clear(b[size:]) // record 11 never landed: zeros where it was
	crashed := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(crashed, segmentName(1)), b, 0o600))
	require.NoError(t, l.Close())

	l = openLog(t, crashed, Options{})
	require.Zero(t, l.TruncatedTail())
	requireRecords(t, l, 1, 10)
	fi, err := os.Stat(filepath.Join(crashed, segmentName(1)))
	require.NoError(t, err)
	require.Equal(t, size, fi.Size(), "Open cuts the zeros")
	appendRange(t, l, 11, 12)
	fi, err = os.Stat(filepath.Join(crashed, segmentName(1)))
	require.NoError(t, err)
	require.Equal(t, l.Size()+padSize, fi.Size(), "padded again")
	require.NoError(t, l.Close())
	l = openLog(t, crashed, Options{})
	requireRecords(t, l, 1, 12)
	require.NoError(t, l.Close())
}

func TestReopenContinuesPositions(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{})
	appendRange(t, l, 1, 10)
	require.NoError(t, l.Close())

	l = openLog(t, dir, Options{})
	require.Equal(t, uint64(10), l.Last())
	last, err := l.Append(payload(11), payload(12))
	require.NoError(t, err)
	require.Equal(t, uint64(12), last)
	last, err = l.Append()
	require.NoError(t, err)
	require.Equal(t, uint64(12), last, "an empty Append returns Last")
	require.NoError(t, l.Close())

	l = openLog(t, dir, Options{})
	requireRecords(t, l, 1, 12)
}

func TestLargeRecordsAndLimit(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{})
	big := bytes.Repeat([]byte("abcdefg"), 300_000) // 2.1 MB: over the 1 MiB write buffer
	last, err := l.Append(big, []byte("x"), big)
	require.NoError(t, err)
	require.Equal(t, uint64(3), last)
	size := l.Size()

	_, err = l.Append([]byte("ok"), make([]byte, MaxRecord+1))
	require.ErrorIs(t, err, ErrTooLarge)
	require.ErrorContains(t, err, "record 2 of 2")
	require.Equal(t, uint64(3), l.Last(), "a refused batch appends nothing")
	require.Equal(t, size, l.Size())
	require.NoError(t, l.Close())

	l = openLog(t, dir, Options{})
	got := readAll(t, l, 0)
	require.Len(t, got, 3)
	require.Equal(t, big, got[0].rec)
	require.Equal(t, []byte("x"), got[1].rec)
	require.Equal(t, big, got[2].rec)
}

func TestTrim(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentSize: 512})
	appendRange(t, l, 1, 200)
	firsts := segmentFiles(t, dir)
	require.Greater(t, len(firsts), 5)

	require.NoError(t, l.Trim(firsts[2]-2)) // segment 1 ends at firsts[2]-1: kept
	require.Equal(t, firsts[1], l.First(), "only the first segment was all at or before upTo")
	require.Equal(t, firsts[1:], segmentFiles(t, dir))
	requireRecords(t, l, firsts[1], 200)

	require.NoError(t, l.Trim(firsts[3]-1))
	require.Equal(t, firsts[3], l.First())
	require.Equal(t, firsts[3:], segmentFiles(t, dir))

	var onDisk int64 // the frames: the active segment's padding is not counted
	for _, first := range firsts[3:] {
		b, err := os.ReadFile(filepath.Join(dir, segmentName(first)))
		require.NoError(t, err)
		res, err := scan(bytes.NewReader(b), int64(len(b)), segmentName(first), first, nil)
		require.NoError(t, err)
		onDisk += res.end
	}
	require.Equal(t, onDisk, l.Size())

	require.NoError(t, l.Trim(1000))
	active := firsts[len(firsts)-1]
	require.Equal(t, []uint64{active}, segmentFiles(t, dir), "never the active segment")
	requireRecords(t, l, active, 200)

	appendRange(t, l, 201, 260)
	require.NoError(t, l.Close())
	l = openLog(t, dir, Options{SegmentSize: 512})
	requireRecords(t, l, active, 260)
}

func TestSetNext(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{})
	require.NoError(t, l.SetNext(101))
	require.Equal(t, uint64(100), l.Last())
	require.Equal(t, uint64(0), l.First())
	require.NoError(t, l.SetNext(51), "an empty log can move again")
	require.Equal(t, uint64(50), l.Last())
	require.NoError(t, l.Close())

	l = openLog(t, dir, Options{})
	require.Equal(t, uint64(50), l.Last(), "SetNext is durable")
	require.Equal(t, []uint64{51}, segmentFiles(t, dir))
	last, err := l.Append(payload(51))
	require.NoError(t, err)
	require.Equal(t, uint64(51), last)
	appendRange(t, l, 52, 60)

	err = l.SetNext(1000)
	require.ErrorContains(t, err, "only an empty log")
	require.Equal(t, uint64(60), l.Last())
	require.ErrorContains(t, l.SetNext(0), "positions start at 1")
	require.NoError(t, l.Close())

	l = openLog(t, dir, Options{})
	requireRecords(t, l, 51, 60)
}

// buildLog writes records 1..n in segments of segSize bytes and returns the
// directory, closed.
func buildLog(t *testing.T, n uint64, segSize int64) string {
	t.Helper()
	dir := t.TempDir()
	l, err := Open(dir, Options{SegmentSize: segSize})
	require.NoError(t, err)
	appendRange(t, l, 1, n)
	require.NoError(t, l.Close())
	return dir
}

// frameOffsets returns the offset of every frame of a segment file, and its size.
func frameOffsets(t *testing.T, path string) ([]int64, int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var offs []int64
	for off := int64(0); off < int64(len(b)); {
		offs = append(offs, off)
		off += headerSize + int64(binary.BigEndian.Uint32(b[off:]))
	}
	return offs, int64(len(b))
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	for name, b := range snapshot(t, src) {
		require.NoError(t, os.WriteFile(filepath.Join(dst, name), b, 0o600))
	}
	return dst
}

// TestTornTailEveryCut cuts the last record of the last segment at every
// byte, and also leaves the file its full length with the record's bytes
// from the cut on zeroed (a crash after the size grew, before the data was
// written): Open cuts the record, and the log goes on at its position.
// TruncatedTail counts the bytes cut up to the last one that is not zero.
func TestTornTailEveryCut(t *testing.T) {
	const n = 40
	base := buildLog(t, n, 1024)
	firsts := segmentFiles(t, base)
	require.Greater(t, len(firsts), 2)
	lastSeg := segmentName(firsts[len(firsts)-1])
	offs, size := frameOffsets(t, filepath.Join(base, lastSeg))
	start := offs[len(offs)-1]
	for _, zeroed := range []bool{false, true} {
		for cut := start; cut < size; cut++ {
			dir := copyDir(t, base)
			path := filepath.Join(dir, lastSeg)
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			want := int64(len(bytes.TrimRight(b[start:cut], "\x00"))) // bytes cut
			if zeroed {
				if !slices.ContainsFunc(b[cut:], func(c byte) bool { return c != 0 }) {
					continue // already zero: the record is whole
				}
				clear(b[cut:])
				require.NoError(t, os.WriteFile(path, b, 0o600))
			} else {
				require.NoError(t, os.Truncate(path, cut))
			}
			l, err := Open(dir, Options{SegmentSize: 1024})
			require.NoError(t, err, "cut at %d (zeroed %v)", cut, zeroed)
			require.Equal(t, want, l.TruncatedTail(), "cut at %d", cut)
			requireRecords(t, l, 1, n-1)
			fi, err := os.Stat(path)
			require.NoError(t, err)
			require.Equal(t, start, fi.Size(), "truncated at the last good record")
			last, err := l.Append(payload(n), payload(n+1))
			require.NoError(t, err)
			require.Equal(t, uint64(n+1), last)
			require.NoError(t, l.Close())
			l, err = Open(dir, Options{SegmentSize: 1024})
			require.NoError(t, err)
			requireRecords(t, l, 1, n+1)
			require.Zero(t, l.TruncatedTail())
			require.NoError(t, l.Close())
		}
	}
}

// TestTornTailOfSeveralRecords: an Append of several records cut inside the
// second keeps the first (it is whole) and cuts the rest.
func TestTornTailOfSeveralRecords(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{})
	appendRange(t, l, 1, 5)
	size := l.Size()
	_, err := l.Append(payload(6), payload(7), payload(8))
	require.NoError(t, err)
	require.NoError(t, l.Close())
	path := filepath.Join(dir, segmentName(1))
	first := size + headerSize + int64(len(payload(6)))
	require.NoError(t, os.Truncate(path, first+5))

	l = openLog(t, dir, Options{})
	require.Equal(t, int64(5), l.TruncatedTail())
	requireRecords(t, l, 1, 6)
}

// TestTornOnlyRecordOfLastSegment: a last segment whose only record is torn
// is left empty, and the next Append fills it at the same position.
func TestTornOnlyRecordOfLastSegment(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentSize: 1})
	appendRange(t, l, 1, 1)
	_, err := l.Append(payload(2))
	require.NoError(t, err)
	require.NoError(t, l.Close())
	require.Equal(t, []uint64{1, 2}, segmentFiles(t, dir))
	path := filepath.Join(dir, segmentName(2))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(path, 10))

	l = openLog(t, dir, Options{SegmentSize: 1})
	require.Equal(t, int64(len(bytes.TrimRight(b[:10], "\x00"))), l.TruncatedTail(), "the bytes cut, its trailing zeros not counted")
	requireRecords(t, l, 1, 1)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Zero(t, fi.Size())
	appendRange(t, l, 2, 2)
	require.Equal(t, []uint64{1, 2}, segmentFiles(t, dir), "the empty segment is reused")
	require.NoError(t, l.Close())
	l = openLog(t, dir, Options{SegmentSize: 1})
	requireRecords(t, l, 1, 2)
}

func requireCorrupt(t *testing.T, err error, segment string, offset int64, msg string) {
	t.Helper()
	require.ErrorIs(t, err, ErrCorrupt, msg)
	var ce *CorruptError
	require.True(t, errors.As(err, &ce), msg)
	require.Equal(t, segment, ce.Segment, msg)
	require.Equal(t, offset, ce.Offset, msg)
}

// TestDamageInMiddleSegment flips each byte of each record of a middle
// segment: Open refuses the log, naming the segment and the record's
// offset, and changes no file.
func TestDamageInMiddleSegment(t *testing.T) {
	base := buildLog(t, 30, 512)
	firsts := segmentFiles(t, base)
	require.Greater(t, len(firsts), 2)
	mid := segmentName(firsts[1])
	offs, size := frameOffsets(t, filepath.Join(base, mid))
	dir := copyDir(t, base)
	path := filepath.Join(dir, mid)
	orig, err := os.ReadFile(path)
	require.NoError(t, err)
	for i, off := range offs {
		end := size
		if i+1 < len(offs) {
			end = offs[i+1]
		}
		for at := off; at < end; at++ {
			b := slices.Clone(orig)
			b[at] ^= 0x20
			require.NoError(t, os.WriteFile(path, b, 0o600))
			before := snapshot(t, dir)
			_, err := Open(dir, Options{SegmentSize: 512})
			msg := fmt.Sprintf("record %d, byte %d", i, at-off)
			requireCorrupt(t, err, mid, off, msg)
			require.Equal(t, before, snapshot(t, dir), "%s: nothing changed", msg)
		}
	}
}

// TestDamageInLastSegment: a bad record of the last segment followed by a
// good one is damage; the final record damaged looks like a torn tail and
// is cut (the documented limit of the rule).
func TestDamageInLastSegment(t *testing.T) {
	base := buildLog(t, 12, 0)
	offs, _ := frameOffsets(t, filepath.Join(base, segmentName(1)))
	for i, off := range offs {
		for _, at := range []int64{0, 3, 5, 9, headerSize} {
			dir := copyDir(t, base)
			path := filepath.Join(dir, segmentName(1))
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			if off+at >= int64(len(b)) {
				continue // an empty payload
			}
			b[off+at] ^= 0x01
			require.NoError(t, os.WriteFile(path, b, 0o600))
			before := snapshot(t, dir)
			l, err := Open(dir, Options{})
			msg := fmt.Sprintf("record %d, byte %d", i, at)
			if i == len(offs)-1 {
				require.NoError(t, err, msg)
				requireRecords(t, l, 1, 11)
				require.NoError(t, l.Close())
				continue
			}
			requireCorrupt(t, err, segmentName(1), off, msg)
			require.ErrorContains(t, err, "good record", msg)
			require.Equal(t, before, snapshot(t, dir), "%s: nothing changed", msg)
		}
	}
}

func TestGapBetweenSegments(t *testing.T) {
	base := buildLog(t, 40, 512)
	firsts := segmentFiles(t, base)
	require.Greater(t, len(firsts), 3)

	dir := copyDir(t, base)
	require.NoError(t, os.Remove(filepath.Join(dir, segmentName(firsts[1]))))
	before := snapshot(t, dir)
	_, err := Open(dir, Options{SegmentSize: 512})
	requireCorrupt(t, err, segmentName(firsts[2]), 0, "a missing middle segment")
	require.ErrorContains(t, err, fmt.Sprintf("ends at %d", firsts[1]-1))
	require.Equal(t, before, snapshot(t, dir))

	// The last segment missing is not a gap: its records were never synced.
	dir = copyDir(t, base)
	require.NoError(t, os.Remove(filepath.Join(dir, segmentName(firsts[len(firsts)-1]))))
	l, err := Open(dir, Options{SegmentSize: 512})
	require.NoError(t, err)
	requireRecords(t, l, 1, firsts[len(firsts)-1]-1)
	require.NoError(t, l.Close())

	// A segment renamed: its first record is not at the position of its name.
	dir = copyDir(t, base)
	last := firsts[len(firsts)-1]
	require.NoError(t, os.Rename(filepath.Join(dir, segmentName(last)), filepath.Join(dir, segmentName(last+1))))
	_, err = Open(dir, Options{SegmentSize: 512})
	requireCorrupt(t, err, segmentName(last+1), 0, "a renamed segment")

	dir = copyDir(t, base)
	require.NoFileExists(t, filepath.Join(dir, segmentName(last-1)))
	require.NoError(t, os.Rename(filepath.Join(dir, segmentName(last)), filepath.Join(dir, segmentName(last-1))))
	_, err = Open(dir, Options{SegmentSize: 512})
	requireCorrupt(t, err, segmentName(last-1), 0, "overlapping segments")
}

// TestPositionOutOfSequence: frames with good checksums whose positions do
// not follow on are damage, not a torn tail.
func TestPositionOutOfSequence(t *testing.T) {
	for _, positions := range [][]uint64{{1, 2, 4}, {1, 2, 2, 3}, {1, 3}, {2}} {
		dir := t.TempDir()
		var b []byte
		var badAt int64 = -1
		for i, pos := range positions {
			if badAt < 0 && pos != uint64(i+1) {
				badAt = int64(len(b))
			}
			b = appendFrame(b, pos, payload(pos))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, segmentName(1)), b, 0o600))
		_, err := Open(dir, Options{})
		requireCorrupt(t, err, segmentName(1), badAt, fmt.Sprint(positions))
		require.ErrorContains(t, err, "want")
	}
}

func TestOtherFilesUntouched(t *testing.T) {
	dir := t.TempDir()
	others := map[string][]byte{
		"notes.txt":                    []byte("keep"),
		"1.log":                        []byte("not a segment name"),
		"00000000000000000001.log.bak": []byte("nor this"),
		"0000000000000000000x.log":     []byte("nor this"),
	}
	for name, b := range others {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	l := openLog(t, dir, Options{SegmentSize: 256})
	appendRange(t, l, 1, 50)
	require.NoError(t, l.Trim(40))
	require.NoError(t, l.Close())
	l = openLog(t, dir, Options{SegmentSize: 256})
	require.NoError(t, l.Close())
	got := snapshot(t, dir)
	for name, b := range others {
		require.Equal(t, b, got[name], name)
	}
}

func TestClosed(t *testing.T) {
	l, err := Open(t.TempDir(), Options{})
	require.NoError(t, err)
	appendRange(t, l, 1, 3)
	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "Close is idempotent")
	_, err = l.Append([]byte("x"))
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, l.Sync(), ErrClosed)
	require.ErrorIs(t, l.Trim(10), ErrClosed)
	require.ErrorIs(t, l.SetNext(10), ErrClosed)
	require.ErrorIs(t, l.Read(0, func(uint64, []byte) error { return nil }), ErrClosed)
}

func TestOpenOptions(t *testing.T) {
	_, err := Open(t.TempDir(), Options{SegmentSize: -1})
	require.ErrorContains(t, err, "Options.SegmentSize (-1)")

	dir := filepath.Join(t.TempDir(), "a", "b")
	l := openLog(t, dir, Options{})
	require.DirExists(t, dir, "Open creates the directory")
	require.Empty(t, segmentFiles(t, dir), "an empty log writes no segment until needed")
	require.NoError(t, l.Close())
}

func TestReadStopsAtCallbackError(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{SegmentSize: 256})
	appendRange(t, l, 1, 30)
	stop := errors.New("stop")
	var seen []uint64
	err := l.Read(5, func(pos uint64, _ []byte) error {
		seen = append(seen, pos)
		if pos == 20 {
			return stop
		}
		return nil
	})
	require.Same(t, stop, err)
	require.Equal(t, uint64(5), seen[0])
	require.Equal(t, uint64(20), seen[len(seen)-1])
	require.Len(t, seen, 16)
	require.Empty(t, readAll(t, l, 31))
}

// TestReadWhileAppending runs Read in other goroutines while one appends,
// rotates and trims (run it with -race): every Read sees whole records in
// order, all those appended before it started.
func TestReadWhileAppending(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{SegmentSize: 1024, NoSync: true})
	appendRange(t, l, 1, 20)
	done := make(chan struct{})
	started := make(chan struct{}, 2)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			var once sync.Once
			signal := func() { once.Do(func() { started <- struct{}{} }) }
			defer signal()
			for reads := 0; ; reads++ {
				if reads == 1 {
					signal()
				}
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				last := l.Last()
				var prev uint64
				err := l.Read(0, func(pos uint64, rec []byte) error {
					if prev != 0 && pos != prev+1 {
						return fmt.Errorf("position %d after %d", pos, prev)
					}
					if !bytes.Equal(rec, payload(pos)) {
						return fmt.Errorf("record %d damaged", pos)
					}
					prev = pos
					return nil
				})
				if err == nil && prev < last {
					err = fmt.Errorf("read up to %d, but %d was appended before", prev, last)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	<-started // the appends overlap reads
	<-started
	for pos := uint64(21); pos <= 600; pos += 3 {
		appendRange(t, l, pos, pos+2)
		if pos%30 == 0 && pos > 100 {
			require.NoError(t, l.Trim(pos-100))
		}
	}
	close(done)
	for range 2 {
		require.NoError(t, <-errs)
	}
}
