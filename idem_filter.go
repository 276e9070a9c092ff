package gamify

import (
	"cmp"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/gamifykit/gamify/store"
)

// idemFilter answers most look-ups of an idempotency key that was never
// recorded without reading the store. A new key is the common case, and its
// miss cost a View, the staged layers' tree and bbolt's search of a bucket
// holding every key of the window: a fifth of a Buffered event sent with a
// key (bench/RESULTS.md, session 20).
//
// It has no false negatives, or a retried command would apply twice: it
// holds every key stored or pending. The file's keys enter it when the
// writer loads (reset, from reload), and every key a command records enters
// it when the command commits into the open batch (txn.commit), whether or
// not that batch then commits. Keys the pruning job or an erase removes
// stay in it until a rebuild, which starts once it has taken the keys it
// was sized for. The rebuild scans a snapshot of the store on a goroutine of
// its own; the keys pending when it starts and every key recorded after
// that are kept aside and added when it ends, so that the filter that
// replaces the old one holds every key the old one had to.
//
// All of it is the writer's (w.mu), but for the rebuild's goroutine, which
// hands its filter over through ready.
type idemFilter struct {
	seed  maphash.Seed
	cur   *bloom
	since []uint64 // during a rebuild: the keys pending when it started and those recorded since
	// gen numbers the rebuilds: a reset abandons the one in flight, whose
	// result then no longer matches.
	gen        uint64
	rebuilding bool
	ready      atomic.Pointer[rebuilt]
	wg         sync.WaitGroup // the rebuild's goroutine, for Close
	// minKeys is the fewest keys a filter is sized for; fixed (tests) sizes
	// every filter for minKeys alone, so that it is rebuilt all the time.
	// onScan is Options.idemRebuildScan.
	minKeys int
	fixed   bool
	onScan  func()
}

// rebuilt is the result of a rebuild: nil b if it failed.
type rebuilt struct {
	gen uint64
	b   *bloom
	err error
}

// Sizing: 10 bits a key of capacity (rounded up to a power of two) and 7
// probes gave 0.64 % false positives at capacity, 0.015 % half full (a
// false positive reads the store, as without the filter); a filter is
// sized for twice the keys it starts with.
const (
	idemFilterMinKeys = 1 << 12 // 8 KiB: a tenant's engine has one each
	bloomBitsPerKey   = 10
	bloomProbes       = 7
)

// bloom is a Bloom filter over 64-bit hashes.
type bloom struct {
	words []uint64
	mask  uint64 // bits - 1 (a power of two)
	cap   int    // keys it was sized for
	n     int    // keys added, repeats counted
}

func newBloom(keys int) *bloom {
	bits := uint64(64)
	for bits < uint64(keys)*bloomBitsPerKey {
		bits <<= 1
	}
	return &bloom{words: make([]uint64, bits/64), mask: bits - 1, cap: keys}
}

// probes calls fn with each bit of h (double hashing).
func (b *bloom) probes(h uint64, fn func(bit uint64) bool) bool {
	h1, h2 := h, h>>32|1
	for i := range uint64(bloomProbes) {
		if !fn((h1 + i*h2) & b.mask) {
			return false
		}
	}
	return true
}

func (b *bloom) add(h uint64) {
	b.n++
	b.probes(h, func(bit uint64) bool { b.words[bit/64] |= 1 << (bit % 64); return true })
}

func (b *bloom) has(h uint64) bool {
	return b.probes(h, func(bit uint64) bool { return b.words[bit/64]&(1<<(bit%64)) != 0 })
}

func (f *idemFilter) hash(key string) uint64 { return maphash.String(f.seed, key) }

// reset makes the filter hold the keys of tx alone, abandoning a rebuild in
// flight: the writer's working state was just loaded from the store.
func (f *idemFilter) reset(tx *store.Tx, opts *Options) error {
	if f.cur == nil {
		f.seed = maphash.MakeSeed()
		f.minKeys, f.onScan = cmp.Or(opts.idemFilterKeys, idemFilterMinKeys), opts.idemRebuildScan
		f.fixed = opts.idemFilterKeys > 0
	}
	f.gen++
	f.rebuilding, f.since = false, nil
	b, err := f.fill(tx)
	if err != nil {
		return err
	}
	f.cur = b
	return nil
}

// fill returns a filter holding the keys of tx, sized for twice as many: a
// walk to count them, another to add them (a walk of the keys alone costs
// about 8 ns a key, BenchmarkScanKeys), which holds no list of them.
// Keys only: a damaged record fails the look-up of its key, not the load (a
// damaged key is then a key no one sends, as without the filter).
func (f *idemFilter) fill(tx *store.Tx) (*bloom, error) {
	n := 0
	if err := tx.ScanKeys(store.Idempotency, func([]byte) error { n++; return nil }); err != nil {
		return nil, err
	}
	size := max(2*n, f.minKeys)
	if f.fixed {
		size = f.minKeys
	}
	b := newBloom(size)
	err := tx.ScanKeys(store.Idempotency, func(k []byte) error {
		b.add(maphash.Bytes(f.seed, k))
		return nil
	})
	return b, err
}

// mayHave reports whether key may have been recorded: false means it was
// not.
func (f *idemFilter) mayHave(w *writer, key string) bool {
	if f.rebuilding {
		f.finish(w)
	}
	return f.cur.has(f.hash(key))
}

// add records key; w is the writer, for a rebuild to start or end.
func (f *idemFilter) add(w *writer, key string) {
	h := f.hash(key)
	f.cur.add(h)
	if f.rebuilding {
		f.since = append(f.since, h)
		f.finish(w)
		return
	}
	if f.cur.n > f.cur.cap && !w.closing {
		f.start(w)
	}
}

// start begins a rebuild: the keys pending now are kept aside (a batch in
// flight may install them after the scan's snapshot), and the snapshot is
// taken after this, so every key is in the one or the other.
func (f *idemFilter) start(w *writer) {
	f.rebuilding = true
	f.since = make([]uint64, 0, len(w.pendingIdem))
	for k := range w.pendingIdem {
		f.since = append(f.since, f.hash(k))
	}
	f.gen++
	gen, db := f.gen, w.db
	f.wg.Go(func() {
		r := &rebuilt{gen: gen}
		r.err = db.View(func(tx *store.Tx) (err error) {
			if f.onScan != nil {
				f.onScan()
			}
			r.b, err = f.fill(tx)
			return err
		})
		if r.err != nil {
			r.b = nil
		}
		f.ready.Store(r)
	})
}

// finish installs the rebuilt filter, if it is ready, with the keys kept
// aside. A failed rebuild leaves the old filter, a superset still, and the
// next one waits until it has taken twice its keys.
func (f *idemFilter) finish(w *writer) {
	r := f.ready.Load()
	if r == nil || r.gen != f.gen {
		return
	}
	f.ready.Store(nil)
	f.rebuilding = false
	if r.err != nil {
		w.log.Warn("gamify: rebuilding the filter of idempotency keys", "err", r.err)
		f.cur.cap *= 2
		f.since = nil
		return
	}
	for _, h := range f.since {
		r.b.add(h)
	}
	f.cur, f.since = r.b, nil
}
