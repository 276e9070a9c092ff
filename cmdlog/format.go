package cmdlog

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
)

const (
	// MaxRecord is the largest record Append accepts, in bytes.
	MaxRecord = 64 << 20

	headerSize = 16 // length, checksum, position
	nameDigits = 20 // enough for any uint64
	nameSuffix = ".log"
)

var (
	// ErrCorrupt is wrapped by every *CorruptError: damage to the log that is
	// not a torn tail.
	ErrCorrupt = errors.New("cmdlog: corrupt log")
	// ErrClosed is returned by Append, Sync, SetNext, Trim and Read after Close.
	ErrClosed = errors.New("cmdlog: log closed")
	// ErrTooLarge is returned (wrapped) by Append for a record over MaxRecord.
	ErrTooLarge = errors.New("cmdlog: record too large")
)

// CorruptError reports damage at one place of the log. It unwraps to
// ErrCorrupt.
type CorruptError struct {
	Segment string // the segment's file name
	Offset  int64  // byte offset of the damaged frame in the segment
	Reason  string // what is wrong, e.g. "checksum mismatch"
}

// Error formats as `cmdlog: corrupt log: segment 00000000000000000001.log at offset 116: checksum mismatch`.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("%v: segment %s at offset %d: %s", ErrCorrupt, e.Segment, e.Offset, e.Reason)
}

// Unwrap returns ErrCorrupt so that errors.Is(err, ErrCorrupt) holds.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameSum is the checksum of a whole frame: its length field, then its
// position and payload, which are contiguous. The slices are those of the
// frame itself, so computing it allocates nothing.
func frameSum(frame []byte) uint32 {
	return crc32.Update(crc32.Update(0, castagnoli, frame[:4]), castagnoli, frame[8:])
}

// appendFrame appends the frame of rec at pos to buf.
func appendFrame(buf []byte, pos uint64, rec []byte) []byte {
	start := len(buf)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(rec)))
	buf = append(buf, 0, 0, 0, 0)
	buf = binary.BigEndian.AppendUint64(buf, pos)
	buf = append(buf, rec...)
	binary.BigEndian.PutUint32(buf[start+4:], frameSum(buf[start:]))
	return buf
}

// segmentName is the file name of the segment whose first record is at first.
func segmentName(first uint64) string {
	return fmt.Sprintf("%0*d%s", nameDigits, first, nameSuffix)
}

// parseSegmentName returns the first position a segment file name stands
// for, and false for any other name.
func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, nameSuffix)
	if !ok || len(digits) != nameDigits {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	first, err := strconv.ParseUint(digits, 10, 64)
	return first, err == nil
}

// scanResult is where a scan of one segment stopped.
type scanResult struct {
	end  int64  // offset just past the last good frame
	next uint64 // position the frame at end should hold
	bad  string // why the frame at end is bad; "" when the scan reached size or zeros
	torn int64  // checkSegment: the bytes of a torn tail at end, the zeros after it not counted
}

// scan reads the frames of a segment of size bytes whose first record is at
// position first, calling fn (when not nil) for each good one in order; rec
// is valid only during fn. It stops at the first bad frame (incomplete,
// oversized or failing its checksum) and reports it in the result: whether
// that is a torn tail is the caller's decision. A good frame holding another
// position than the next is a *CorruptError named seg. An error of fn is
// returned as it is.
func scan(r io.ReaderAt, size int64, seg string, first uint64, fn func(pos uint64, rec []byte) error) (scanResult, error) {
	res := scanResult{next: first}
	br := bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 1<<20)
	var frame []byte
	for res.end < size {
		if size-res.end < headerSize {
			res.bad = "incomplete frame header"
			return res, nil
		}
		frame = grow(frame, headerSize)
		if _, err := io.ReadFull(br, frame); err != nil {
			return res, readError(seg, res.end, err)
		}
		if zeroHeader(frame) {
			res.bad = "zeros" // never a frame: positions start at 1
			return res, nil
		}
		length := int64(binary.BigEndian.Uint32(frame))
		if length > MaxRecord {
			res.bad = fmt.Sprintf("frame length %d over MaxRecord", length)
			return res, nil
		}
		if length > size-res.end-headerSize {
			res.bad = fmt.Sprintf("frame of %d bytes past the end of the segment", length)
			return res, nil
		}
		frame = grow(frame, headerSize+int(length))
		if _, err := io.ReadFull(br, frame[headerSize:]); err != nil {
			return res, readError(seg, res.end, err)
		}
		if binary.BigEndian.Uint32(frame[4:]) != frameSum(frame) {
			res.bad = "checksum mismatch"
			return res, nil
		}
		if pos := binary.BigEndian.Uint64(frame[8:]); pos != res.next {
			return res, &CorruptError{seg, res.end, fmt.Sprintf("record at position %d, want %d", pos, res.next)}
		}
		if fn != nil {
			if err := fn(res.next, frame[headerSize:]); err != nil {
				return res, err
			}
		}
		res.end += int64(len(frame))
		res.next++
	}
	return res, nil
}

// checkSegment applies Open's rule (see the package documentation) to one
// segment: a bad frame is a torn tail, left in the result for the caller to
// cut, only in the last segment and with no good frame after it.
func checkSegment(r io.ReaderAt, size int64, seg string, first uint64, last bool) (scanResult, error) {
	res, err := scan(r, size, seg, first, nil)
	if err != nil || res.bad == "" {
		return res, err
	}
	if !last {
		return res, &CorruptError{seg, res.end, res.bad}
	}
	dataEnd, err := nonZeroEnd(r, res.end, size)
	if err != nil {
		return res, readError(seg, res.end, err)
	}
	if dataEnd == res.end {
		res.bad = "" // only zeros follow: Append's padding, or writes that never landed
		return res, nil
	}
	off, pos, found, err := findFrame(r, res.end+1, size, res.next-1)
	if err != nil {
		return res, readError(seg, res.end, err)
	}
	if found {
		return res, &CorruptError{seg, res.end, fmt.Sprintf("%s, with a good record (position %d) after it at offset %d", res.bad, pos, off)}
	}
	res.torn = dataEnd - res.end
	return res, nil
}

// zeroHeader reports whether a frame header is all zeros: padding, or a
// write that never reached the disk.
func zeroHeader(h []byte) bool {
	return binary.BigEndian.Uint64(h) == 0 && binary.BigEndian.Uint64(h[8:]) == 0
}

// nonZeroEnd returns the offset just past the last byte in [from, size)
// that is not zero, or from if they all are.
func nonZeroEnd(r io.ReaderAt, from, size int64) (int64, error) {
	end := from
	buf := make([]byte, 64<<10)
	for off := from; off < size; off += int64(len(buf)) {
		n := min(int64(len(buf)), size-off)
		if _, err := r.ReadAt(buf[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i := n - 1; i >= 0; i-- {
			if buf[i] != 0 {
				end = off + i + 1
				break
			}
		}
	}
	return end, nil
}

// readError wraps an I/O error met while scanning. The scan checks the
// frame against size first, so io.ErrUnexpectedEOF means the file shrank
// under it.
func readError(seg string, off int64, err error) error {
	return fmt.Errorf("cmdlog: read segment %s at offset %d: %w", seg, off, err)
}

// findFrame looks for a good frame starting at an offset in [from, size)
// whose position comes after the position after (the last good record
// before from-1, where the bad frame starts). Such a frame means the bad one
// is damage, not a torn tail. A candidate must also be plausible: each frame
// between takes at least headerSize bytes, which bounds its position, so
// nearly every offset is rejected before its checksum is computed.
func findFrame(r io.ReaderAt, from, size int64, after uint64) (off int64, pos uint64, found bool, err error) {
	const window = 64 << 10
	buf := make([]byte, window+headerSize)
	var frame []byte
	for base := from; base+headerSize <= size; base += window {
		n := min(int64(len(buf)), size-base)
		if _, err := r.ReadAt(buf[:n], base); err != nil && !errors.Is(err, io.EOF) {
			return 0, 0, false, err
		}
		for i := int64(0); i < window && i+headerSize <= n; i++ {
			h := buf[i : i+headerSize]
			off := base + i
			length := int64(binary.BigEndian.Uint32(h))
			pos := binary.BigEndian.Uint64(h[8:])
			if length > MaxRecord || length > size-off-headerSize ||
				pos <= after || pos-after > uint64(off-from+1)/headerSize+1 {
				continue
			}
			frame = grow(frame, headerSize+int(length))
			if _, err := r.ReadAt(frame, off); err != nil && !errors.Is(err, io.EOF) {
				return 0, 0, false, err
			}
			if binary.BigEndian.Uint32(frame[4:]) == frameSum(frame) {
				return off, pos, true, nil
			}
		}
	}
	return 0, 0, false, nil
}

// grow returns b resized to n bytes, keeping its contents.
func grow(b []byte, n int) []byte {
	if cap(b) >= n {
		return b[:n]
	}
	nb := make([]byte, n, max(n, 2*cap(b)))
	copy(nb, b)
	return nb
}
