package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// ErrCorrupt is returned by Open for a file that is not a usable database.
var ErrCorrupt = errors.New("store: database file is corrupt")

// Layout of a bbolt meta page (bbolt's internal/common Meta, in the host's
// byte order): a 16-byte page header, then magic, version, page size,
// flags, root bucket (pgid, sequence), freelist pgid, high-water pgid, txid
// and an FNV-64a checksum of the fields before it.
const (
	metaMagic      = 0xED0CDAED
	metaVersion    = 2
	metaOffMagic   = 16
	metaOffPgSize  = 24
	metaOffPgid    = 56
	metaOffTxid    = 64
	metaOffSum     = 72
	metaHeaderSize = 80
)

// checkFile refuses a file that bbolt would trust but is not whole: bbolt
// panics (in a goroutine of its own, out of our reach) or faults on reading
// pages past the end of a truncated file, so the file's size is checked
// against the high-water mark of its newest valid meta page before bbolt
// opens it. A missing file is fine (it will be created); an empty one is not.
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		// Not silently a new database: an empty file is someone else's, or
		// what a crash left of one being created.
		return fmt.Errorf("%w: the file is empty (0 bytes); remove it to create a new database", ErrCorrupt)
	}
	head := make([]byte, metaHeaderSize)
	if _, err := io.ReadFull(f, head); err != nil {
		return fmt.Errorf("%w: %d bytes is too short for a database", ErrCorrupt, fi.Size())
	}
	pageSize := int64(binary.NativeEndian.Uint32(head[metaOffPgSize:]))
	if pageSize < 1024 || pageSize > 1<<20 || pageSize&(pageSize-1) != 0 {
		pageSize = int64(os.Getpagesize())
	}
	var best struct {
		ok         bool
		txid, pgid uint64
	}
	for i := int64(0); i < 2; i++ {
		m := make([]byte, metaHeaderSize)
		if _, err := f.ReadAt(m, i*pageSize); err != nil {
			continue
		}
		if binary.NativeEndian.Uint32(m[metaOffMagic:]) != metaMagic || binary.NativeEndian.Uint32(m[metaOffMagic+4:]) != metaVersion {
			continue
		}
		h := fnv.New64a()
		h.Write(m[metaOffMagic:metaOffSum])
		if h.Sum64() != binary.NativeEndian.Uint64(m[metaOffSum:]) {
			continue
		}
		if txid := binary.NativeEndian.Uint64(m[metaOffTxid:]); !best.ok || txid > best.txid {
			best.ok, best.txid, best.pgid = true, txid, binary.NativeEndian.Uint64(m[metaOffPgid:])
		}
	}
	if !best.ok {
		return fmt.Errorf("%w: no valid meta page", ErrCorrupt)
	}
	if need := int64(best.pgid) * pageSize; fi.Size() < need {
		return fmt.Errorf("%w: truncated: %d bytes, the database needs %d", ErrCorrupt, fi.Size(), need)
	}
	return nil
}
