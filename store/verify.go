package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// verifyPages walks the page tree of a database file before bbolt opens it,
// and refuses a file whose structure bbolt cannot read safely.
//
// bbolt has no page checksums and trusts the file. It reads the freelist
// page if the file has one (checked below); on a file without one (Compact
// writes none, nor did earlier versions of the store), bbolt.Open rebuilds
// the freelist by walking every reachable page in a goroutine of its own: a damaged page header or element
// there makes it index past a page, or fail an assertion, and the panic kills
// the process (it cannot be recovered from another goroutine). The same walk
// reports what it finds wrong (a page referenced twice, keys out of order) by
// panicking in the caller, leaving the file locked.
//
// So this walk reads the file itself, bounds-checking everything bbolt will
// dereference, from the newest valid meta page: the root bucket, every bucket's
// B+tree (page ids below the high-water mark, no page reached twice, page
// header id and flags, element counts, and each element's key and value
// inside its page), the keys' order (bbolt's own check), inline buckets, and
// the freelist page if there is one. On top of bbolt's checks it requires
// what bbolt always writes: elements packed one after another right after
// the element array, no empty keys, overflow counts that match the bytes
// used. A flipped bit in a header or an element offset then fails here
// instead of moving a key or a value. Damage inside keys and values that
// keeps the structure is the engine's to find (Engine.Check).
//
// It costs one pass over the pages, on every core; the file is memory-mapped,
// so those pages are then in the page cache for bbolt and the engine's scans.
//
// It returns the digest of each keyspace's records (digest.go), which the
// walk computes on the way.
func verifyPages(path string, lockTimeout time.Duration) (map[string]digest, error) {
	data, release, err := mapFile(path, lockTimeout)
	if err != nil || data == nil {
		return nil, err
	}
	defer release()
	return walk(data)
}

// verifyData verifies the file contents data.
func verifyData(data []byte) error {
	_, err := walk(data)
	return err
}

// walk verifies the file contents data and returns the digests of the
// top-level buckets.
func walk(data []byte) (map[string]digest, error) {
	m, err := newestMeta(data)
	if err != nil {
		return nil, err
	}
	w := &walker{data: data, pageSize: m.pageSize, hwm: m.hwm, seen: make([]uint64, (m.hwm+63)/64), roots: []namedRoot{}, top: map[string]digest{}}
	w.seen[0] |= 3 // the meta pages
	if m.freelist != noFreelist {
		if err := w.freelist(m.freelist); err != nil {
			return nil, err
		}
	}
	if m.root < 2 {
		return nil, corruptf("root bucket at page %d", m.root)
	}
	if _, err := w.tree(m.root, nil, nil, 0, 0, nil, false); err != nil {
		return nil, err
	}
	// The keyspaces' trees are walked in parallel: most of the cost is the
	// first touch of each page and cache misses on keys, which parallelize.
	// A keyspace whose root is a branch page is walked child by child, so
	// that the largest (the users' state, at a million users) is not one
	// goroutine's alone.
	roots := w.roots
	w.roots = nil
	type subtree struct {
		root         int    // index in roots
		parent, page uint64 // parent 0: the keyspace's root
		index        int    // in the parent
		lo, hi       []byte // bounds of its keys (nil: none)
		level        int
		last         []byte // its greatest key, once walked
		d            digest
	}
	var subs []*subtree
	for i, root := range roots {
		kids, err := w.children(root.page)
		if err != nil {
			return nil, err
		}
		if kids == nil {
			subs = append(subs, &subtree{root: i, page: root.page})
			continue
		}
		for j, e := range kids {
			var hi []byte
			if j+1 < len(kids) {
				hi = kids[j+1].key
			}
			subs = append(subs, &subtree{root: i, parent: root.page, page: e.child, index: j, lo: e.key, hi: hi, level: 1})
		}
	}
	errs := make([]error, len(subs))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, st := range subs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			st.last, errs[i] = w.tree(st.page, st.lo, st.hi, 1, st.level, &st.d, packed(Keyspace(roots[st.root].name)))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	digests := make([]digest, len(roots))
	for i, st := range subs {
		if prev := subs[max(i-1, 0)]; i > 0 && prev.root == st.root && prev.last != nil && bytes.Compare(prev.last, st.lo) >= 0 {
			return nil, corruptf("page %d: key %d is not above the keys of the previous child", st.parent, st.index)
		}
		digests[st.root].count += st.d.count
		digests[st.root].sum += st.d.sum
	}
	for _, id := range w.free {
		if w.isSeen(id) {
			return nil, corruptf("page %d is both free and in use", id)
		}
	}
	for i, root := range roots {
		w.top[root.name] = digests[i]
	}
	return w.top, nil
}

type namedRoot struct {
	name string
	page uint64
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Offsets in a meta page beyond those of check.go.
const (
	metaOffRoot     = 32
	metaOffFreelist = 48
	noFreelist      = ^uint64(0)
)

type meta struct {
	pageSize                  int
	root, freelist, hwm, txid uint64
}

// newestMeta returns the meta page bbolt will use: the valid one with the
// higher transaction id, the first on a tie (bbolt's DB.meta).
func newestMeta(data []byte) (meta, error) {
	pageSize := os.Getpagesize()
	if len(data) >= metaHeaderSize {
		if ps := int(binary.NativeEndian.Uint32(data[metaOffPgSize:])); validMeta(data[:metaHeaderSize]) && ps >= 1024 && ps <= 1<<20 && ps&(ps-1) == 0 {
			pageSize = ps
		}
	}
	var best meta
	found := false
	for i := range 2 {
		off := i * pageSize
		if off+metaHeaderSize > len(data) || !validMeta(data[off:off+metaHeaderSize]) {
			continue
		}
		b := data[off:]
		m := meta{pageSize: pageSize, root: binary.NativeEndian.Uint64(b[metaOffRoot:]), freelist: binary.NativeEndian.Uint64(b[metaOffFreelist:]),
			hwm: binary.NativeEndian.Uint64(b[metaOffPgid:]), txid: binary.NativeEndian.Uint64(b[metaOffTxid:])}
		if !found || m.txid > best.txid {
			best, found = m, true
		}
	}
	if !found {
		return meta{}, corruptf("no valid meta page")
	}
	if best.hwm < 2 || best.hwm > uint64(len(data)/pageSize) {
		return meta{}, corruptf("high-water mark of %d pages in a file of %d bytes", best.hwm, len(data))
	}
	return best, nil
}

func validMeta(m []byte) bool {
	if binary.NativeEndian.Uint32(m[metaOffMagic:]) != metaMagic || binary.NativeEndian.Uint32(m[metaOffMagic+4:]) != metaVersion {
		return false
	}
	h := fnv.New64a()
	h.Write(m[metaOffMagic:metaOffSum])
	return h.Sum64() == binary.NativeEndian.Uint64(m[metaOffSum:])
}

// The page format (bbolt's internal/common, in the host's byte order): a
// header of id (8 bytes), flags (2), count (2) and overflow (4), then count
// elements of 16 bytes — branch: pos, ksize (4 each), child page id (8);
// leaf: flags, pos, ksize, vsize (4 each) — where pos is the offset of the
// element's key from the element itself, the value following the key.
const (
	pageHeaderSize = 16
	elemSize       = 16
	branchFlag     = 0x01
	leafFlag       = 0x02
	freelistFlag   = 0x10
	bucketLeafFlag = 0x01
	bucketHeader   = 16 // a bucket's value: root page id, sequence

	maxDepth = 64 // B+tree levels plus nested buckets; bbolt's are a handful
)

type walker struct {
	data     []byte
	pageSize int
	hwm      uint64
	seen     []uint64          // bit per page id: reached by the walk (atomic)
	roots    []namedRoot       // if not nil, where the root bucket's walk puts the keyspaces' root pages
	top      map[string]digest // digests of the inline top-level buckets, then of all
	free     []uint64          // ids on the freelist page
}

func (w *walker) isSeen(id uint64) bool { return atomic.LoadUint64(&w.seen[id/64])&(1<<(id%64)) != 0 }

// page returns page id with its overflow pages, after checking its header
// and marking it reached.
func (w *walker) page(id uint64, flags ...uint16) ([]byte, error) {
	if id < 2 || id >= w.hwm {
		return nil, corruptf("page %d is outside the data pages [2, %d)", id, w.hwm)
	}
	off := id * uint64(w.pageSize)
	h := w.data[off : off+pageHeaderSize]
	if got := binary.NativeEndian.Uint64(h); got != id {
		return nil, corruptf("page %d holds the header of page %d", id, got)
	}
	f := binary.NativeEndian.Uint16(h[8:])
	if f != flags[0] && (len(flags) < 2 || f != flags[1]) {
		return nil, corruptf("page %d has flags %#x", id, f)
	}
	over := uint64(binary.NativeEndian.Uint32(h[12:]))
	if over >= w.hwm-id {
		return nil, corruptf("page %d overflows by %d pages past the high-water mark %d", id, over, w.hwm)
	}
	for p := id; p <= id+over; p++ {
		if atomic.OrUint64(&w.seen[p/64], 1<<(p%64))&(1<<(p%64)) != 0 {
			return nil, corruptf("page %d is reached twice", p)
		}
	}
	return w.data[off : off+(over+1)*uint64(w.pageSize)], nil
}

// freelist reads the freelist page (present in files last written with the
// freelist synced) and records its ids for the check against reached pages.
func (w *walker) freelist(id uint64) error {
	p, err := w.page(id, freelistFlag)
	if err != nil {
		return err
	}
	n, start := uint64(binary.NativeEndian.Uint16(p[10:])), uint64(pageHeaderSize)
	if n == 0xFFFF { // the count overflowed into the first element
		n, start = binary.NativeEndian.Uint64(p[pageHeaderSize:]), pageHeaderSize+8
	}
	if n > (uint64(len(p))-start)/8 {
		return corruptf("freelist page %d lists %d ids", id, n)
	}
	for i := range n {
		f := binary.NativeEndian.Uint64(p[start+8*i:])
		if f < 2 || f >= w.hwm {
			return corruptf("freelist page %d lists page %d", id, f)
		}
		w.free = append(w.free, f)
	}
	return nil
}

// elem is one element of a page, its key and value sliced from the page.
type elem struct {
	key, val []byte
	flags    uint32 // leaf: bucketLeafFlag for a nested bucket
	child    uint64 // branch: the child page
}

// elemAt returns element i of page p, whose layout has been checked.
func elemAt(p []byte, leaf bool, i int) elem {
	e := p[pageHeaderSize+i*elemSize:]
	at := uint64(pageHeaderSize + i*elemSize)
	if leaf {
		pos, ksize, vsize := at+uint64(binary.NativeEndian.Uint32(e[4:])), uint64(binary.NativeEndian.Uint32(e[8:])), uint64(binary.NativeEndian.Uint32(e[12:]))
		return elem{key: p[pos : pos+ksize], val: p[pos+ksize : pos+ksize+vsize], flags: binary.NativeEndian.Uint32(e)}
	}
	pos, ksize := at+uint64(binary.NativeEndian.Uint32(e)), uint64(binary.NativeEndian.Uint32(e[4:]))
	return elem{key: p[pos : pos+ksize], child: binary.NativeEndian.Uint64(e[8:])}
}

// layout checks branch or leaf page p (a whole page with its overflow, or
// an inline bucket's page): its elements are packed as bbolt writes them
// (the element array, then every key and value back to back) inside p, and
// their keys are strictly increasing within [lo, hi). It returns the bytes
// the layout takes and whether a leaf holds nested buckets. It allocates
// nothing: Open runs it on every page.
func layout(p []byte, leaf bool, lo, hi []byte) (used uint64, buckets bool, err error) {
	n := int(binary.NativeEndian.Uint16(p[10:]))
	size := uint64(len(p))
	used = pageHeaderSize + uint64(n)*elemSize
	if used > size {
		return 0, false, fmt.Errorf("%d elements overflow the page", n)
	}
	if n == 0 && !leaf {
		return 0, false, fmt.Errorf("a branch page without elements")
	}
	var prev []byte
	for i := range n {
		at := uint64(pageHeaderSize + i*elemSize)
		e := p[at : at+elemSize]
		var pos, ksize, vsize uint64
		if leaf {
			flags := binary.NativeEndian.Uint32(e)
			if flags&^bucketLeafFlag != 0 {
				return 0, false, fmt.Errorf("element %d has flags %#x", i, flags)
			}
			buckets = buckets || flags != 0
			pos, ksize, vsize = uint64(binary.NativeEndian.Uint32(e[4:])), uint64(binary.NativeEndian.Uint32(e[8:])), uint64(binary.NativeEndian.Uint32(e[12:]))
		} else {
			pos, ksize = uint64(binary.NativeEndian.Uint32(e)), uint64(binary.NativeEndian.Uint32(e[4:]))
		}
		if at+pos != used {
			return 0, false, fmt.Errorf("element %d starts at %d, not %d", i, at+pos, used)
		}
		if ksize == 0 {
			return 0, false, fmt.Errorf("element %d has an empty key", i)
		}
		end := used + ksize + vsize
		if end > size {
			return 0, false, fmt.Errorf("element %d ends at %d, past the page's %d bytes", i, end, size)
		}
		k := p[used : used+ksize]
		switch {
		case i == 0 && lo != nil && bytes.Compare(lo, k) > 0:
			return 0, false, fmt.Errorf("first key is below its parent's")
		case i > 0 && bytes.Compare(prev, k) >= 0:
			return 0, false, fmt.Errorf("key %d is out of order", i)
		}
		prev, used = k, end
	}
	if n > 0 && hi != nil && bytes.Compare(prev, hi) >= 0 {
		return 0, false, fmt.Errorf("last key is not below the next key of its parent")
	}
	return used, buckets, nil
}

// tree walks the B+tree under page id, whose keys must lie in [lo, hi), and
// returns its greatest key (bbolt's recursivelyCheckPageKeyOrder).
// Its records are added to d, if not nil (runs: a packed keyspace's).
func (w *walker) tree(id uint64, lo, hi []byte, depth, level int, d *digest, runs bool) (last []byte, err error) {
	p, leaf, buckets, err := w.node(id, lo, hi, depth, level)
	if err != nil {
		return nil, err
	}
	n := int(binary.NativeEndian.Uint16(p[10:]))
	if leaf {
		if d != nil {
			d.addPage(p, n, runs)
		}
		for i := 0; buckets && i < n; i++ {
			if e := elemAt(p, true, i); e.flags&bucketLeafFlag != 0 {
				if err := w.bucket(id, e, depth); err != nil {
					return nil, err
				}
			}
		}
		if n > 0 {
			last = elemAt(p, true, n-1).key
		}
		return last, nil
	}
	for i := range n {
		e := elemAt(p, false, i)
		next := hi
		if i+1 < n {
			next = elemAt(p, false, i+1).key
		}
		if last != nil && bytes.Compare(last, e.key) >= 0 {
			return nil, corruptf("page %d: key %d is not above the keys of the previous child", id, i)
		}
		if last, err = w.tree(e.child, e.key, next, depth, level+1, d, runs); err != nil {
			return nil, err
		}
	}
	return last, nil
}

// node checks page id of a B+tree, whose keys must lie in [lo, hi), and
// marks it reached: it returns the page, whether it is a leaf and whether
// it holds nested buckets.
func (w *walker) node(id uint64, lo, hi []byte, depth, level int) (p []byte, leaf, buckets bool, err error) {
	if depth > maxDepth || level > maxDepth {
		return nil, false, false, corruptf("page %d: the tree is more than %d levels deep", id, maxDepth)
	}
	if p, err = w.page(id, branchFlag, leafFlag); err != nil {
		return nil, false, false, err
	}
	leaf = binary.NativeEndian.Uint16(p[8:]) == leafFlag
	used, buckets, err := layout(p, leaf, lo, hi)
	if err != nil {
		return nil, false, false, corruptf("page %d: %v", id, err)
	}
	if pages := (used + uint64(w.pageSize) - 1) / uint64(w.pageSize); pages != uint64(len(p)/w.pageSize) {
		return nil, false, false, corruptf("page %d spans %d pages for %d bytes", id, len(p)/w.pageSize, used)
	}
	// bbolt writes each page from a zeroed buffer, so the bytes after the
	// layout are zero. Non-zero ones are a damaged header or element (a count
	// cut to 0 would otherwise empty a page of its records without a trace).
	if !zero(p[used:]) {
		return nil, false, false, corruptf("page %d: bytes after its %d elements are not zero", id, binary.NativeEndian.Uint16(p[10:]))
	}
	return p, leaf, buckets, nil
}

// children checks the root page id of a keyspace's tree when it is a branch
// page and returns its elements, to be walked as subtrees; nil when it is
// not one (tree then walks it whole and checks it).
func (w *walker) children(id uint64) ([]elem, error) {
	if id < 2 || id >= w.hwm || binary.NativeEndian.Uint16(w.data[id*uint64(w.pageSize)+8:]) != branchFlag {
		return nil, nil
	}
	p, _, _, err := w.node(id, nil, nil, 1, 0)
	if err != nil {
		return nil, err
	}
	kids := make([]elem, binary.NativeEndian.Uint16(p[10:]))
	for i := range kids {
		kids[i] = elemAt(p, false, i)
	}
	return kids, nil
}

// bucket walks the nested bucket stored as element e of leaf page id.
func (w *walker) bucket(id uint64, e elem, depth int) error {
	if len(e.val) < bucketHeader {
		return corruptf("page %d: bucket %q has a %d-byte header", id, e.key, len(e.val))
	}
	if root := binary.NativeEndian.Uint64(e.val); root != 0 {
		if w.roots != nil && depth == 0 {
			w.roots = append(w.roots, namedRoot{string(e.key), root})
			return nil
		}
		_, err := w.tree(root, nil, nil, depth+1, 0, nil, false)
		return err
	}
	// An inline bucket: a leaf page without nested buckets inside the value.
	p := e.val[bucketHeader:]
	if len(p) < pageHeaderSize || binary.NativeEndian.Uint64(p) != 0 || binary.NativeEndian.Uint16(p[8:]) != leafFlag || binary.NativeEndian.Uint32(p[12:]) != 0 {
		return corruptf("page %d: inline bucket %q has a bad page header", id, e.key)
	}
	used, buckets, err := layout(p, true, nil, nil)
	switch {
	case err != nil:
	case used != uint64(len(p)):
		err = fmt.Errorf("%d bytes for a layout of %d", len(p), used)
	case buckets:
		err = fmt.Errorf("it holds a bucket")
	}
	if err != nil {
		return corruptf("page %d: inline bucket %q: %v", id, e.key, err)
	}
	if depth == 0 && w.top != nil {
		var d digest
		d.addPage(p, int(binary.NativeEndian.Uint16(p[10:])), packed(Keyspace(e.key)))
		w.top[string(e.key)] = d
	}
	return nil
}

var zeros [4096]byte

// zero reports whether b holds only zero bytes.
func zero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeros))
		if !bytes.Equal(b[:n], zeros[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}
