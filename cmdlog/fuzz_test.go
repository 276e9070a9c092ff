package cmdlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the segment scanner, as the last
// segment and as a middle one: it never panics, every record it returns
// passes a checksum computed here from the frame's bytes and follows the one
// before, a torn tail is cut at a frame boundary (zeros after the last frame
// are padding), and what is kept scans again to the same records with
// nothing bad.
func FuzzDecode(f *testing.F) {
	var good []byte
	for pos := uint64(1); pos <= 4; pos++ {
		good = appendFrame(good, pos, payload(pos))
	}
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(append(good[:len(good):len(good)], make([]byte, 40)...))
	flipped := bytes.Clone(good)
	flipped[headerSize+2] ^= 1
	f.Add(flipped)
	f.Add(appendFrame(appendFrame(nil, 1, []byte("a")), 3, []byte("b")))
	f.Add([]byte{})

	table := crc32.MakeTable(crc32.Castagnoli)
	f.Fuzz(func(t *testing.T, data []byte) {
		size := int64(len(data))
		type kept struct {
			pos uint64
			rec []byte
		}
		var recs []kept
		off := int64(0)
		res, err := scan(bytes.NewReader(data), size, "fuzz", 1, func(pos uint64, rec []byte) error {
			frame := data[off : off+headerSize+int64(len(rec))]
			sum := crc32.Update(crc32.Checksum(frame[:4], table), table, frame[8:])
			if sum != binary.BigEndian.Uint32(frame[4:]) || !bytes.Equal(frame[headerSize:], rec) {
				t.Fatalf("record %d at offset %d returned with a bad checksum", pos, off)
			}
			if want := uint64(len(recs) + 1); pos != want || binary.BigEndian.Uint64(frame[8:]) != pos {
				t.Fatalf("record at position %d, want %d", pos, want)
			}
			recs = append(recs, kept{pos, bytes.Clone(rec)})
			off += int64(len(frame))
			return nil
		})
		if res.end != off || res.next != uint64(len(recs)+1) {
			t.Fatalf("scan stopped at %d (next %d) after %d records ending at %d", res.end, res.next, len(recs), off)
		}
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.Offset != res.end {
				t.Fatalf("scan error %v, want a *CorruptError at %d", err, res.end)
			}
		}
		if err == nil && (res.bad == "") != (res.end == size) {
			t.Fatalf("scan stopped at %d of %d with bad %q", res.end, size, res.bad)
		}

		mid, midErr := checkSegment(bytes.NewReader(data), size, "fuzz", 1, false)
		if (midErr == nil) != (err == nil && res.bad == "") || mid != res {
			t.Fatalf("as a middle segment: %+v, %v; scan gave %+v, %v", mid, midErr, res, err)
		}
		// As the last segment, zeros after the last good frame are padding,
		// and a torn tail counts its bytes up to the last that is not zero.
		want := res
		if err == nil && res.bad != "" {
			if want.torn = int64(len(bytes.TrimRight(data[res.end:], "\x00"))); want.torn == 0 {
				want.bad = ""
			}
		}
		last, lastErr := checkSegment(bytes.NewReader(data), size, "fuzz", 1, true)
		if (lastErr == nil && last != want) || (err != nil && lastErr == nil) {
			t.Fatalf("as the last segment: %+v, %v; want %+v (scan gave %v)", last, lastErr, want, err)
		}
		if lastErr != nil && !errors.Is(lastErr, ErrCorrupt) {
			t.Fatalf("as the last segment: %v, want ErrCorrupt", lastErr)
		}
		if lastErr != nil || last.bad == "" {
			return
		}
		// A torn tail: no good frame after the cut, and the part kept is whole.
		if _, pos, found, _ := findFrame(bytes.NewReader(data), res.end+1, size, res.next-1); found {
			t.Fatalf("a tail cut at %d with a good record (position %d) after it", res.end, pos)
		}
		again, err := checkSegment(bytes.NewReader(data[:res.end]), res.end, "fuzz", 1, true)
		if err != nil || again.bad != "" || again.end != res.end || again.next != res.next {
			t.Fatalf("the kept part scans to %+v, %v; want end %d, next %d", again, err, res.end, res.next)
		}
	})
}

// FuzzCutAndFlip frames records taken from the input (split at 0xff) into a
// segment, then cuts it at any byte or flips the bits of any byte. A cut
// last segment is a torn tail: the whole frames before the cut are kept,
// never ErrCorrupt. A flip is ErrCorrupt at the damaged frame, except in the
// final frame of the last segment, which is cut.
func FuzzCutAndFlip(f *testing.F) {
	f.Add([]byte("one\xfftwo\xff\xffthree"), uint32(20), uint32(5), byte(1))
	f.Add([]byte("x"), uint32(3), uint32(17), byte(0x80))
	f.Fuzz(func(t *testing.T, data []byte, cut, flip uint32, mask byte) {
		var seg []byte
		var offs []int64 // offset of each frame, then the end
		for i, rec := range bytes.Split(data, []byte{0xff}) {
			offs = append(offs, int64(len(seg)))
			seg = appendFrame(seg, uint64(i+1), rec)
		}
		offs = append(offs, int64(len(seg)))
		frames := len(offs) - 1

		c := int64(cut) % int64(len(seg)+1)
		kept := 0 // whole frames before the cut
		for kept < frames && offs[kept+1] <= c {
			kept++
		}
		res, err := checkSegment(bytes.NewReader(seg[:c]), c, "fuzz", 1, true)
		if err != nil || res.end != offs[kept] || res.next != uint64(kept+1) {
			t.Fatalf("cut at %d: %+v, %v; want end %d, next %d", c, res, err, offs[kept], kept+1)
		}
		_, err = checkSegment(bytes.NewReader(seg[:c]), c, "fuzz", 1, false)
		if (err == nil) != (c == offs[kept]) {
			t.Fatalf("cut at %d as a middle segment: %v", c, err)
		}

		at := int64(flip) % int64(len(seg))
		damaged := bytes.Clone(seg)
		damaged[at] ^= mask | 1
		i := 0 // the damaged frame
		for offs[i+1] <= at {
			i++
		}
		size := int64(len(damaged))
		res, err = checkSegment(bytes.NewReader(damaged), size, "fuzz", 1, true)
		var ce *CorruptError
		if i == frames-1 {
			if err != nil || res.end != offs[i] {
				t.Fatalf("flip at %d in the final frame: %+v, %v; want it cut at %d", at, res, err, offs[i])
			}
		} else if !errors.As(err, &ce) || ce.Offset != offs[i] {
			t.Fatalf("flip at %d in frame %d of %d: %v; want a *CorruptError at %d", at, i, frames, err, offs[i])
		}
		_, err = checkSegment(bytes.NewReader(damaged), size, "fuzz", 1, false)
		if !errors.As(err, &ce) || ce.Offset != offs[i] {
			t.Fatalf("flip at %d in frame %d of a middle segment: %v; want a *CorruptError at %d", at, i, err, offs[i])
		}
	})
}
