package leaderboard

import (
	"fmt"

	"github.com/gamifykit/gamify/gamifytype"
)

// Node capacities. A leaf holds up to leafCap entries inline; with the 32-byte
// leaderboard Entry and the 24-byte leaf header a leaf is 2040 bytes, inside
// Go's 2048-byte size class. Leaves hold no pointers (links are uint32 ids):
// a pointer would add an 8-byte malloc header, pushing a leaf into the
// 2304-byte class, and make the GC scan every leaf.
const (
	leafCap  = 63
	innerCap = 64 // one spare slot: an inner node may hold innerMax+1 children until it splits
	maxDepth = 40 // minimum fan-out 2 and fewer than 2^31 entries bound the depth well below this
	noLeaf   = ^uint32(0)
)

// Handle names the leaf that currently holds an entry. Tree reports every
// placement through Config.Moved, so a caller can map its own ids to handles
// (4 bytes each) instead of copying keys, and find an entry again with Items.
type Handle uint32

// Config describes the entries of a Tree.
type Config[E any] struct {
	// Compare is a strict total order: it returns <0, 0 or >0. Entries that
	// compare equal are the same entry (Insert refuses the second one).
	Compare func(a, b E) int
	// Same reports whether a and b belong to the same tie group. Groups must be
	// contiguous under Compare. Optional: when nil, Groups always returns 0
	// and the tree skips the group bookkeeping.
	Same func(a, b E) bool
	// Floor returns a key at most every entry of e's tie group and greater
	// than every entry of the groups before it. Required with Same: Where
	// seeks it when a tie group starts in an earlier leaf.
	Floor func(e E) E
	// Moved is called whenever an entry is placed in a leaf: on insertion and
	// whenever a split, merge or rebalance moves it. Optional.
	Moved func(e E, h Handle)
}

// Tree is a counted B+tree: entries live inline in leaves, and each inner node
// keeps, per child, the number of entries and of tie-group starts below it.
// That makes Insert, Delete, Rank, Select and Groups one root-to-leaf descent,
// O(log n), and leaves are linked for in-order scans.
//
// A Tree is not safe for concurrent use; concurrent readers are fine while
// nothing writes.
type Tree[E any] struct {
	cmp   func(a, b E) int
	same  func(a, b E) bool
	floor func(e E) E
	moved func(e E, h Handle)

	root   *inner[E]
	leaves []*leaf[E]  // by leaf id; nil for freed ids
	free   []uint32    // freed leaf ids, reused first
	inners []*inner[E] // by inner id, for leaf.parent; nil for freed ids
	freeIn []uint32
	n      int

	// Nodes freed by merges, reused by splits, so that a board whose size
	// is steady does not allocate however its entries move.
	spareLeaves []*leaf[E]
	spareInners []*inner[E]

	// Limits on node sizes, at most the capacities. Tests lower them to grow
	// deep trees from a few entries.
	leafMax, leafMin, innerMax, innerMin int32
}

type leaf[E any] struct {
	n      int32
	heads  int32 // entries here that start a tie group (see Tree.Groups)
	id     uint32
	prev   uint32
	next   uint32
	parent uint32 // id of the inner node above, in Tree.inners
	items  [leafCap]E
}

type inner[E any] struct {
	parent   *inner[E] // nil at the root
	id       uint32    // index in Tree.inners
	n        int32     // children
	leafKids bool      // children are leaves (else inner nodes)
	total    int       // entries below
	heads    int       // group starts below
	cnt      [innerCap]int32
	hd       [innerCap]int32
	// keys[j] is a lower bound of child j (j >= 1) and greater than every
	// entry of child j-1; keys[0] is unused.
	keys   [innerCap]E
	kids   [innerCap]*inner[E]
	leaves [innerCap]*leaf[E]
}

type step[E any] struct {
	nd *inner[E]
	j  int32
}

// path is the descent from the root; s[d-1] is the leaf's parent.
type path[E any] struct {
	s [maxDepth]step[E]
	d int
}

// NewTree returns an empty tree. It panics if cfg.Compare is nil, or if
// cfg.Same is set without cfg.Floor.
func NewTree[E any](cfg Config[E]) *Tree[E] {
	if cfg.Compare == nil || (cfg.Same != nil && cfg.Floor == nil) {
		panic("leaderboard: NewTree needs Config.Compare, and Floor with Same")
	}
	t := &Tree[E]{cmp: cfg.Compare, same: cfg.Same, floor: cfg.Floor, moved: cfg.Moved}
	t.setLimits(leafCap, innerCap-1)
	t.reset()
	return t
}

func (t *Tree[E]) setLimits(leafMax, innerMax int32) {
	t.leafMax, t.innerMax = leafMax, innerMax
	// Merging below a third (not a half) leaves room after a merge, so an
	// insert/delete pair at a boundary cannot split and merge every time.
	t.leafMin = max(1, leafMax/3)
	t.innerMin = max(2, innerMax/3)
}

func (t *Tree[E]) reset() {
	clear(t.leaves)
	t.leaves = t.leaves[:0]
	t.free = t.free[:0]
	clear(t.inners)
	t.inners = t.inners[:0]
	t.freeIn = t.freeIn[:0]
	clear(t.spareLeaves)
	clear(t.spareInners)
	t.spareLeaves, t.spareInners = t.spareLeaves[:0], t.spareInners[:0]
	t.n = 0
	t.root = t.allocInner(true)
	t.root.n = 1
	t.root.leaves[0] = t.allocLeaf()
	t.root.leaves[0].parent = t.root.id
}

func (t *Tree[E]) allocLeaf() *leaf[E] {
	var l *leaf[E]
	if k := len(t.spareLeaves); k > 0 {
		l = t.spareLeaves[k-1]
		t.spareLeaves = t.spareLeaves[:k-1]
	} else {
		l = new(leaf[E])
	}
	l.prev, l.next = noLeaf, noLeaf
	if k := len(t.free); k > 0 {
		l.id = t.free[k-1]
		t.free = t.free[:k-1]
		t.leaves[l.id] = l
		return l
	}
	l.id = uint32(len(t.leaves))
	t.leaves = append(t.leaves, l)
	return l
}

func (t *Tree[E]) freeLeaf(l *leaf[E]) {
	t.leaves[l.id] = nil
	t.free = append(t.free, l.id)
	*l = leaf[E]{}
	t.spareLeaves = append(t.spareLeaves, l)
}

func (t *Tree[E]) allocInner(leafKids bool) *inner[E] {
	var nd *inner[E]
	if k := len(t.spareInners); k > 0 {
		nd = t.spareInners[k-1]
		t.spareInners = t.spareInners[:k-1]
	} else {
		nd = new(inner[E])
	}
	nd.leafKids = leafKids
	if k := len(t.freeIn); k > 0 {
		nd.id = t.freeIn[k-1]
		t.freeIn = t.freeIn[:k-1]
		t.inners[nd.id] = nd
		return nd
	}
	nd.id = uint32(len(t.inners))
	t.inners = append(t.inners, nd)
	return nd
}

func (t *Tree[E]) freeInner(nd *inner[E]) {
	t.inners[nd.id] = nil
	t.freeIn = append(t.freeIn, nd.id)
	*nd = inner[E]{}
	t.spareInners = append(t.spareInners, nd)
}

// Len returns the number of entries.
func (t *Tree[E]) Len() int { return t.n }

// Items returns the entries of the leaf h, in order. The slice aliases the
// tree and is valid until the next change.
func (t *Tree[E]) Items(h Handle) []E {
	if int(h) >= len(t.leaves) || t.leaves[h] == nil {
		return nil
	}
	l := t.leaves[h]
	return l.items[:l.n]
}

// child returns the index of the child of nd whose range holds x.
func (nd *inner[E]) child(x E, cmp func(a, b E) int) int32 {
	lo, hi := int32(1), nd.n
	for lo < hi {
		m := int32(uint32(lo+hi) >> 1)
		if cmp(nd.keys[m], x) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// search returns the position of the first entry >= x and whether it equals x.
func (l *leaf[E]) search(x E, cmp func(a, b E) int) (int32, bool) {
	lo, hi := int32(0), l.n
	for lo < hi {
		m := int32(uint32(lo+hi) >> 1)
		if cmp(l.items[m], x) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < l.n && cmp(l.items[lo], x) == 0
}

// pathTo fills p with the path from the root to l, found bottom-up through
// the parent pointers: no key comparisons, which is what makes the rank of a
// known entry cheaper than a descent.
func (t *Tree[E]) pathTo(l *leaf[E], p *path[E]) {
	var up [maxDepth]step[E]
	d := 0
	nd := t.inners[l.parent]
	j := int32(0)
	for nd.leaves[j] != l {
		j++
	}
	up[d] = step[E]{nd, j}
	d++
	for nd.parent != nil {
		par := nd.parent
		j = 0
		for par.kids[j] != nd {
			j++
		}
		up[d] = step[E]{par, j}
		d++
		nd = par
	}
	p.d = d
	for k := range d {
		p.s[k] = up[d-1-k]
	}
}

func (t *Tree[E]) descend(x E, p *path[E]) *leaf[E] {
	nd := t.root
	p.d = 0
	for {
		j := nd.child(x, t.cmp)
		p.s[p.d] = step[E]{nd, j}
		p.d++
		if nd.leafKids {
			return nd.leaves[j]
		}
		nd = nd.kids[j]
	}
}

// Rank returns the number of entries less than x and whether x is present.
func (t *Tree[E]) Rank(x E) (int, bool) {
	nd := t.root
	pos := 0
	for {
		j := nd.child(x, t.cmp)
		for _, c := range nd.cnt[:j] {
			pos += int(c)
		}
		if nd.leafKids {
			i, found := nd.leaves[j].search(x, t.cmp)
			return pos + int(i), found
		}
		nd = nd.kids[j]
	}
}

// Seek returns the position of the first entry >= x (Len if none).
func (t *Tree[E]) Seek(x E) int {
	pos, _ := t.Rank(x)
	return pos
}

// locate returns the leaf and offset of the entry at position k (0 <= k < Len).
func (t *Tree[E]) locate(k int) (*leaf[E], int32) {
	nd := t.root
	for {
		j := int32(0)
		for j < nd.n-1 && k >= int(nd.cnt[j]) {
			k -= int(nd.cnt[j])
			j++
		}
		if nd.leafKids {
			return nd.leaves[j], int32(k)
		}
		nd = nd.kids[j]
	}
}

// Select returns the entry at position k (0-based), or false when k is out of range.
func (t *Tree[E]) Select(k int) (E, bool) {
	if k < 0 || k >= t.n {
		var zero E
		return zero, false
	}
	l, i := t.locate(k)
	return l.items[i], true
}

// Groups returns the number of distinct tie groups (per Config.Same) that
// start among the first k entries. For k at a group boundary this is the
// number of distinct groups before position k, which is what a dense rank needs.
func (t *Tree[E]) Groups(k int) int {
	if t.same == nil || k <= 0 {
		return 0
	}
	if k >= t.n {
		return t.root.heads
	}
	nd := t.root
	g := 0
	for {
		j := int32(0)
		for j < nd.n-1 && k >= int(nd.cnt[j]) {
			k -= int(nd.cnt[j])
			g += int(nd.hd[j])
			j++
		}
		if nd.leafKids {
			return g + int(t.prefixHeads(nd.leaves[j], int32(k)))
		}
		nd = nd.kids[j]
	}
}

// prefixHeads counts the group starts among l.items[:m]. It counts down from
// l.heads over the entries after m: the alternative, counting up, needs the
// previous leaf's last entry, a cache miss that costs more than the scan.
func (t *Tree[E]) prefixHeads(l *leaf[E], m int32) int32 {
	if m == 0 {
		return 0
	}
	h := l.heads
	for i := m; i < l.n; i++ {
		if !t.same(l.items[i-1], l.items[i]) {
			h--
		}
	}
	return h
}

func (t *Tree[E]) prevLast(l *leaf[E]) *E {
	if l.prev == noLeaf {
		return nil
	}
	p := t.leaves[l.prev]
	return &p.items[p.n-1]
}

// runHeads counts the group starts in items whose predecessor is pred (nil: none).
func (t *Tree[E]) runHeads(items []E, pred *E) int32 {
	if t.same == nil || len(items) == 0 {
		return 0
	}
	h := int32(0)
	if pred == nil || !t.same(*pred, items[0]) {
		h = 1
	}
	for i := 1; i < len(items); i++ {
		if !t.same(items[i-1], items[i]) {
			h++
		}
	}
	return h
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// Where locates an entry: its position and, with Config.Same, where its tie
// group starts. A rank under any tie policy follows from it: Pos+1 (unique),
// First+1 (competition), Groups+1 (dense).
type Where struct {
	Pos    int // 0-based position
	First  int // position of the first entry of the tie group
	Groups int // number of tie groups before this one
}

// Detail selects how much of a Where to compute; each level costs more.
type Detail uint8

const (
	// PosOnly computes Pos; First and Groups are -1.
	PosOnly Detail = iota
	// WithFirst adds First (Groups is -1).
	WithFirst
	// WithGroups computes everything.
	WithGroups
)

// Where returns the location of x, computed to detail d, and whether x is
// present. For an absent x only Pos is set: where x would be inserted.
func (t *Tree[E]) Where(x E, d Detail) (Where, bool) {
	var p path[E]
	l := t.descend(x, &p)
	i, found := l.search(x, t.cmp)
	if !found {
		return Where{Pos: t.pathPos(&p, nil) + int(i), First: -1, Groups: -1}, false
	}
	return t.where(&p, l, i, d), true
}

// pathPos sums the entries (and, when heads is not nil, the group starts) in
// the subtrees left of the path.
func (t *Tree[E]) pathPos(p *path[E], heads *int) int {
	pos, h := 0, 0
	for k := 0; k < p.d; k++ {
		s := p.s[k]
		for q := int32(0); q < s.j; q++ {
			pos += int(s.nd.cnt[q])
			h += int(s.nd.hd[q])
		}
	}
	if heads != nil {
		*heads = h
	}
	return pos
}

// where computes the location of l.items[i], which p leads to. Finding the
// group start scans back within the leaf; only a group that began in an
// earlier leaf costs another descent.
func (t *Tree[E]) where(p *path[E], l *leaf[E], i int32, d Detail) Where {
	var heads int
	pos := t.pathPos(p, &heads)
	return t.whereAt(pos, heads, l, i, d)
}

// whereAt is where given the path's pathPos: pos entries and heads group
// starts before l.
func (t *Tree[E]) whereAt(pos, heads int, l *leaf[E], i int32, d Detail) Where {
	w := Where{Pos: pos + int(i), First: -1, Groups: -1}
	if d == PosOnly {
		return w
	}
	if t.same == nil {
		w.First, w.Groups = w.Pos, 0
		return w
	}
	x := l.items[i]
	// The first entry of x's group in this leaf: i itself in the common case
	// of no tie before it, else found by a binary search for the group's
	// floor, not a walk back through a leaf of ties.
	k := i
	if k > 0 && t.same(l.items[k-1], x) {
		if t.same(l.items[0], x) {
			k = 0
		} else {
			k, _ = l.search(t.floor(x), t.cmp)
		}
	}
	if k == 0 {
		// The group may have begun in an earlier leaf.
		if prev := t.prevLast(l); prev != nil && t.same(*prev, x) {
			w.First = t.Seek(t.floor(x))
			if d == WithGroups {
				w.Groups = t.Groups(w.First)
			}
			return w
		}
	}
	w.First = pos + int(k)
	if d == WithGroups {
		w.Groups = heads + int(t.prefixHeads(l, k))
	}
	return w
}

// Insert adds x and reports whether it was added (false if an equal entry exists).
func (t *Tree[E]) Insert(x E) bool {
	_, ok := t.insert(x, false, PosOnly)
	return ok
}

// InsertWhere is Insert that also returns where x was inserted, to detail d.
func (t *Tree[E]) InsertWhere(x E, d Detail) (Where, bool) { return t.insert(x, true, d) }

func (t *Tree[E]) insert(x E, want bool, d Detail) (Where, bool) {
	var p path[E]
	for {
		l := t.descend(x, &p)
		i, found := l.search(x, t.cmp)
		if found {
			return Where{}, false
		}
		if l.n < t.leafMax {
			t.insertAt(&p, l, i, x)
			if want {
				return t.where(&p, l, i, d), true
			}
			return Where{}, true
		}
		// Make room first, then descend again: splits are rare (about one per
		// leafMax/2 inserts) and this keeps the insertion itself simple.
		t.makeRoom(&p, l)
	}
}

func (t *Tree[E]) insertAt(p *path[E], l *leaf[E], i int32, x E) {
	var dl int32
	if t.same != nil {
		var pred, succ *E
		succNext := false
		if i > 0 {
			pred = &l.items[i-1]
		} else {
			pred = t.prevLast(l)
		}
		if i < l.n {
			succ = &l.items[i]
		} else if l.next != noLeaf {
			succ = &t.leaves[l.next].items[0]
			succNext = true
		}
		dl = b2i(pred == nil || !t.same(*pred, x))
		if succ != nil {
			ds := b2i(!t.same(x, *succ)) - b2i(pred == nil || !t.same(*pred, *succ))
			if !succNext {
				dl += ds
			} else if ds != 0 {
				t.adjustNext(p, ds)
			}
		}
	}
	copy(l.items[i+1:l.n+1], l.items[i:l.n])
	l.items[i] = x
	l.n++
	l.heads += dl
	t.n++
	for k := p.d - 1; k >= 0; k-- {
		s := p.s[k]
		s.nd.cnt[s.j]++
		s.nd.hd[s.j] += dl
		s.nd.total++
		s.nd.heads += int(dl)
	}
	if t.moved != nil {
		t.moved(x, Handle(l.id))
	}
}

// moveWithin replaces l.items[i] with e where both lie strictly inside l:
// 0 < i < l.n-1 and l.items[0] < e < l.items[l.n-1]. That is the common case
// of a small score change, and it needs one shift of the entries between
// the two places, one pass up the path for the group counts, and no change
// of the entry counts.
func (t *Tree[E]) moveWithin(l *leaf[E], i int32, e E, want bool, d Detail) (before, after Where) {
	var p path[E]
	t.pathTo(l, &p)
	var heads int // group starts before l: only l's own count changes
	pos := t.pathPos(&p, &heads)
	if want {
		before = t.whereAt(pos, heads, l, i, d)
	}
	var dl int32
	if t.same != nil { // x leaves: its neighbours become adjacent
		pred, x, succ := l.items[i-1], l.items[i], l.items[i+1]
		dl = b2i(!t.same(pred, succ)) - b2i(!t.same(pred, x)) - b2i(!t.same(x, succ))
	}
	j, _ := l.search(e, t.cmp) // among the items with x still at i
	if j <= i {
		copy(l.items[j+1:i+1], l.items[j:i])
	} else {
		j--
		copy(l.items[i:j], l.items[i+1:j+1])
	}
	l.items[j] = e
	if t.same != nil { // e comes between two entries that were adjacent
		pred, succ := l.items[j-1], l.items[j+1]
		dl += b2i(!t.same(pred, e)) + b2i(!t.same(e, succ)) - b2i(!t.same(pred, succ))
	}
	if dl != 0 {
		l.heads += dl
		for k := p.d - 1; k >= 0; k-- {
			s := p.s[k]
			s.nd.hd[s.j] += dl
			s.nd.heads += int(dl)
		}
	}
	if t.moved != nil {
		t.moved(e, Handle(l.id))
	}
	if want {
		after = t.whereAt(pos, heads, l, j, d)
	}
	return before, after
}

// adjustNext adds ds to the group count of the leaf after the one p leads to.
func (t *Tree[E]) adjustNext(p *path[E], ds int32) {
	for k := p.d - 1; k >= 0; k-- {
		s := p.s[k]
		if s.j+1 >= s.nd.n {
			continue
		}
		for a := 0; a < k; a++ {
			u := p.s[a]
			u.nd.hd[u.j] += ds
			u.nd.heads += int(ds)
		}
		nd := s.nd
		nd.hd[s.j+1] += ds
		nd.heads += int(ds)
		if nd.leafKids {
			nd.leaves[s.j+1].heads += ds
			return
		}
		c := nd.kids[s.j+1]
		for {
			c.heads += int(ds)
			c.hd[0] += ds
			if c.leafKids {
				c.leaves[0].heads += ds
				return
			}
			c = c.kids[0]
		}
	}
	panic("leaderboard: adjustNext without a next leaf")
}

// makeRoom frees a slot in the full leaf l: it lends entries to a sibling
// with room (which keeps leaves fuller than splitting would), else splits.
func (t *Tree[E]) makeRoom(p *path[E], l *leaf[E]) {
	s := p.s[p.d-1]
	P, j := s.nd, s.j
	if j+1 < P.n {
		if r := P.leaves[j+1]; r.n < t.leafMax-1 {
			t.shiftRight(P, j, (l.n-r.n+1)/2)
			return
		}
	}
	if j > 0 {
		if lf := P.leaves[j-1]; lf.n < t.leafMax-1 {
			t.shiftLeft(P, j-1, (l.n-lf.n+1)/2)
			return
		}
	}
	t.splitLeaf(p)
}

// shiftRight moves the last k entries of P's leaf j to the front of leaf j+1.
func (t *Tree[E]) shiftRight(P *inner[E], j, k int32) {
	a, b := P.leaves[j], P.leaves[j+1]
	moved := a.items[a.n-k : a.n]
	// Callers move at most half of a, so a keeps the predecessor of moved.
	mh := t.runHeads(moved, &a.items[a.n-k-1])
	copy(b.items[k:b.n+k], b.items[:b.n])
	copy(b.items[:k], moved)
	clear(moved)
	a.n -= k
	b.n += k
	a.heads -= mh
	b.heads += mh
	P.keys[j+1] = b.items[0]
	P.cnt[j], P.cnt[j+1] = a.n, b.n
	P.hd[j], P.hd[j+1] = a.heads, b.heads
	t.notify(b, 0, k)
}

// shiftLeft moves the first k entries of P's leaf j+1 to the end of leaf j.
func (t *Tree[E]) shiftLeft(P *inner[E], j, k int32) {
	a, b := P.leaves[j], P.leaves[j+1]
	var pred *E
	if a.n > 0 {
		pred = &a.items[a.n-1]
	} else {
		pred = t.prevLast(a)
	}
	mh := t.runHeads(b.items[:k], pred)
	copy(a.items[a.n:a.n+k], b.items[:k])
	copy(b.items[:b.n-k], b.items[k:b.n])
	clear(b.items[b.n-k : b.n])
	start := a.n
	a.n += k
	b.n -= k
	a.heads += mh
	b.heads -= mh
	if b.n > 0 {
		P.keys[j+1] = b.items[0]
	}
	P.cnt[j], P.cnt[j+1] = a.n, b.n
	P.hd[j], P.hd[j+1] = a.heads, b.heads
	t.notify(a, start, a.n)
}

func (t *Tree[E]) notify(l *leaf[E], from, to int32) {
	if t.moved == nil {
		return
	}
	h := Handle(l.id)
	for i := from; i < to; i++ {
		t.moved(l.items[i], h)
	}
}

func (nd *inner[E]) insertSlot(j int32, key E, cnt, hd int32) {
	n := nd.n
	copy(nd.keys[j+1:n+1], nd.keys[j:n])
	copy(nd.cnt[j+1:n+1], nd.cnt[j:n])
	copy(nd.hd[j+1:n+1], nd.hd[j:n])
	if nd.leafKids {
		copy(nd.leaves[j+1:n+1], nd.leaves[j:n])
	} else {
		copy(nd.kids[j+1:n+1], nd.kids[j:n])
	}
	nd.keys[j], nd.cnt[j], nd.hd[j] = key, cnt, hd
	nd.n++
}

func (nd *inner[E]) removeSlot(j int32) {
	n := nd.n
	copy(nd.keys[j:n-1], nd.keys[j+1:n])
	copy(nd.cnt[j:n-1], nd.cnt[j+1:n])
	copy(nd.hd[j:n-1], nd.hd[j+1:n])
	var zero E
	nd.keys[n-1] = zero
	if nd.leafKids {
		copy(nd.leaves[j:n-1], nd.leaves[j+1:n])
		nd.leaves[n-1] = nil
	} else {
		copy(nd.kids[j:n-1], nd.kids[j+1:n])
		nd.kids[n-1] = nil
	}
	nd.n--
}

func (t *Tree[E]) splitLeaf(p *path[E]) {
	s := p.s[p.d-1]
	P, j := s.nd, s.j
	a := P.leaves[j]
	b := t.allocLeaf()
	b.prev, b.next = a.id, a.next
	if a.next != noLeaf {
		t.leaves[a.next].prev = b.id
	}
	a.next = b.id
	m := a.n - a.n/2
	copy(b.items[:m], a.items[a.n-m:a.n])
	clear(a.items[a.n-m : a.n])
	a.n -= m
	b.n = m
	b.heads = t.runHeads(b.items[:m], &a.items[a.n-1])
	a.heads -= b.heads
	P.cnt[j], P.hd[j] = a.n, a.heads
	P.insertSlot(j+1, b.items[0], b.n, b.heads)
	P.leaves[j+1] = b
	b.parent = P.id
	t.notify(b, 0, b.n)
	for k := p.d - 1; k >= 0 && p.s[k].nd.n > t.innerMax; k-- {
		if k == 0 {
			old := t.root
			t.root = t.allocInner(false)
			t.root.n, t.root.total, t.root.heads = 1, old.total, old.heads
			t.root.kids[0] = old
			old.parent = t.root
			t.root.cnt[0], t.root.hd[0] = int32(old.total), int32(old.heads)
			t.splitInner(t.root, 0)
		} else {
			t.splitInner(p.s[k-1].nd, p.s[k-1].j)
		}
	}
}

// splitInner splits the j-th child of parent, an inner node, in two.
func (t *Tree[E]) splitInner(parent *inner[E], j int32) {
	a := parent.kids[j]
	b := t.allocInner(a.leafKids)
	m := a.n / 2
	k := a.n - m
	sep := a.keys[m]
	copy(b.keys[1:k], a.keys[m+1:a.n])
	copy(b.cnt[:k], a.cnt[m:a.n])
	copy(b.hd[:k], a.hd[m:a.n])
	if a.leafKids {
		copy(b.leaves[:k], a.leaves[m:a.n])
		clear(a.leaves[m:a.n])
		for _, c := range b.leaves[:k] {
			c.parent = b.id
		}
	} else {
		copy(b.kids[:k], a.kids[m:a.n])
		clear(a.kids[m:a.n])
		for _, c := range b.kids[:k] {
			c.parent = b
		}
	}
	clear(a.keys[m:a.n])
	a.n, b.n = m, k
	for q := int32(0); q < k; q++ {
		b.total += int(b.cnt[q])
		b.heads += int(b.hd[q])
	}
	a.total -= b.total
	a.heads -= b.heads
	parent.cnt[j], parent.hd[j] = int32(a.total), int32(a.heads)
	parent.insertSlot(j+1, sep, int32(b.total), int32(b.heads))
	parent.kids[j+1] = b
	b.parent = parent
}

// Delete removes x and reports whether it was present.
func (t *Tree[E]) Delete(x E) bool {
	_, ok := t.delete(x, false, PosOnly)
	return ok
}

// DeleteWhere is Delete that also returns where x was before its removal, to detail d.
func (t *Tree[E]) DeleteWhere(x E, d Detail) (Where, bool) { return t.delete(x, true, d) }

func (t *Tree[E]) delete(x E, want bool, d Detail) (Where, bool) {
	var p path[E]
	l := t.descend(x, &p)
	i, found := l.search(x, t.cmp)
	if !found {
		return Where{}, false
	}
	return t.deleteAt(&p, l, i, want, d), true
}

// deleteAt removes l.items[i], which p leads to.
func (t *Tree[E]) deleteAt(p *path[E], l *leaf[E], i int32, want bool, d Detail) Where {
	x := l.items[i]
	var w Where
	if want {
		w = t.where(p, l, i, d)
	}
	var dl int32
	if t.same != nil {
		var pred, succ *E
		succNext := false
		if i > 0 {
			pred = &l.items[i-1]
		} else {
			pred = t.prevLast(l)
		}
		if i+1 < l.n {
			succ = &l.items[i+1]
		} else if l.next != noLeaf {
			succ = &t.leaves[l.next].items[0]
			succNext = true
		}
		dl = -b2i(pred == nil || !t.same(*pred, x))
		if succ != nil {
			ds := b2i(pred == nil || !t.same(*pred, *succ)) - b2i(!t.same(x, *succ))
			if !succNext {
				dl += ds
			} else if ds != 0 {
				// Before any merge, so that the rebalancing below sees
				// counts that already match the sequence without x.
				t.adjustNext(p, ds)
			}
		}
	}
	copy(l.items[i:l.n-1], l.items[i+1:l.n])
	l.n--
	var zero E
	l.items[l.n] = zero
	l.heads += dl
	t.n--
	for k := p.d - 1; k >= 0; k-- {
		s := p.s[k]
		s.nd.cnt[s.j]--
		s.nd.hd[s.j] += dl
		s.nd.total--
		s.nd.heads += int(dl)
	}
	t.rebalance(p)
	return w
}

func (t *Tree[E]) rebalance(p *path[E]) {
	s := p.s[p.d-1]
	if s.nd.leaves[s.j].n < t.leafMin && s.nd.n > 1 {
		t.fixLeaf(s.nd, s.j)
		for k := p.d - 1; k >= 1 && p.s[k].nd.n < t.innerMin; k-- {
			t.fixInner(p.s[k-1].nd, p.s[k-1].j)
		}
	}
	for !t.root.leafKids && t.root.n == 1 {
		old := t.root
		t.root = old.kids[0]
		t.root.parent = nil
		t.freeInner(old)
	}
}

// fixLeaf merges P's underfull leaf j with a sibling, or evens them out.
func (t *Tree[E]) fixLeaf(P *inner[E], j int32) {
	if j+1 >= P.n {
		j--
	}
	a, b := P.leaves[j], P.leaves[j+1]
	switch {
	case a.n+b.n <= t.leafMax:
		t.shiftLeft(P, j, b.n)
		a.next = b.next
		if b.next != noLeaf {
			t.leaves[b.next].prev = a.id
		}
		P.removeSlot(j + 1)
		t.freeLeaf(b)
	case a.n < b.n:
		t.shiftLeft(P, j, (b.n-a.n)/2)
	default:
		t.shiftRight(P, j, (a.n-b.n)/2)
	}
}

// fixInner merges parent's underfull inner child j with a sibling, or evens them out.
func (t *Tree[E]) fixInner(parent *inner[E], j int32) {
	if j+1 >= parent.n {
		j--
	}
	a, b := parent.kids[j], parent.kids[j+1]
	switch {
	case a.n+b.n <= t.innerMax:
		moveSlots(a, a.n, b, 0, b.n, parent.keys[j+1])
		a.n += b.n
		a.total += b.total
		a.heads += b.heads
		parent.cnt[j], parent.hd[j] = int32(a.total), int32(a.heads)
		parent.removeSlot(j + 1)
		t.freeInner(b)
	case a.n < b.n:
		k := (b.n - a.n) / 2
		c, h := moveSlots(a, a.n, b, 0, k, parent.keys[j+1])
		newSep := b.keys[k]
		shiftSlots(b, k, -k)
		a.n += k
		b.n -= k
		a.total, b.total = a.total+c, b.total-c
		a.heads, b.heads = a.heads+h, b.heads-h
		parent.keys[j+1] = newSep
		parent.cnt[j], parent.hd[j] = int32(a.total), int32(a.heads)
		parent.cnt[j+1], parent.hd[j+1] = int32(b.total), int32(b.heads)
	default:
		k := (a.n - b.n) / 2
		shiftSlots(b, 0, k)
		b.keys[k] = parent.keys[j+1]
		newSep := a.keys[a.n-k]
		c, h := moveSlots(b, 0, a, a.n-k, k, newSep)
		var zero E
		b.keys[0] = zero
		clear(a.keys[a.n-k : a.n])
		a.n -= k
		b.n += k
		a.total, b.total = a.total-c, b.total+c
		a.heads, b.heads = a.heads-h, b.heads+h
		parent.keys[j+1] = newSep
		parent.cnt[j], parent.hd[j] = int32(a.total), int32(a.heads)
		parent.cnt[j+1], parent.hd[j+1] = int32(b.total), int32(b.heads)
	}
}

// moveSlots copies k child slots of src starting at from into dst at at,
// giving the first one the separator sep, and clears the source children.
// It returns the entries and group starts moved.
func moveSlots[E any](dst *inner[E], at int32, src *inner[E], from, k int32, sep E) (int, int) {
	copy(dst.keys[at:at+k], src.keys[from:from+k])
	dst.keys[at] = sep
	copy(dst.cnt[at:at+k], src.cnt[from:from+k])
	copy(dst.hd[at:at+k], src.hd[from:from+k])
	if src.leafKids {
		copy(dst.leaves[at:at+k], src.leaves[from:from+k])
		clear(src.leaves[from : from+k])
		for _, c := range dst.leaves[at : at+k] {
			c.parent = dst.id
		}
	} else {
		copy(dst.kids[at:at+k], src.kids[from:from+k])
		clear(src.kids[from : from+k])
		for _, c := range dst.kids[at : at+k] {
			c.parent = dst
		}
	}
	c, h := 0, 0
	for q := at; q < at+k; q++ {
		c += int(dst.cnt[q])
		h += int(dst.hd[q])
	}
	return c, h
}

// shiftSlots moves nd's slots [from, n) by d (negative: left), clearing vacated ones.
func shiftSlots[E any](nd *inner[E], from, d int32) {
	n := nd.n
	to := from + d
	copy(nd.keys[to:n+d], nd.keys[from:n])
	copy(nd.cnt[to:n+d], nd.cnt[from:n])
	copy(nd.hd[to:n+d], nd.hd[from:n])
	if nd.leafKids {
		copy(nd.leaves[to:n+d], nd.leaves[from:n])
	} else {
		copy(nd.kids[to:n+d], nd.kids[from:n])
	}
	if d < 0 {
		var zero E
		for q := n + d; q < n; q++ {
			nd.keys[q] = zero
			nd.cnt[q], nd.hd[q] = 0, 0
			nd.leaves[q], nd.kids[q] = nil, nil
		}
	}
}

// Build replaces the contents with sorted, which must be strictly increasing
// under Compare. Leaves are filled to 7/8 so that the first inserts after a
// rebuild do not split every leaf. Build is O(n) and does not keep sorted.
func (t *Tree[E]) Build(sorted []E) error {
	for i := 1; i < len(sorted); i++ {
		if t.cmp(sorted[i-1], sorted[i]) >= 0 {
			return gamifytype.Invalid("Build.Entries", i, "must be strictly increasing")
		}
	}
	t.reset()
	if len(sorted) == 0 {
		return nil
	}
	fill := int(t.leafMax - t.leafMax/8)
	nl := (len(sorted) + fill - 1) / fill
	ls := make([]*leaf[E], nl)
	ls[0] = t.root.leaves[0]
	t.freeInner(t.root) // rebuilt below
	var pred *E
	off := 0
	for i := range nl {
		if i > 0 {
			ls[i] = t.allocLeaf()
			ls[i].prev, ls[i-1].next = ls[i-1].id, ls[i].id
		}
		l := ls[i]
		k := len(sorted) / nl
		if i < len(sorted)%nl {
			k++
		}
		l.n = int32(copy(l.items[:k], sorted[off:off+k]))
		off += k
		l.heads = t.runHeads(l.items[:k], pred)
		pred = &l.items[k-1]
		t.notify(l, 0, l.n)
	}
	t.n = len(sorted)

	// Build the inner levels bottom-up, each with the same even spread.
	fanout := int(t.innerMax - t.innerMax/8)
	type sub struct {
		nd           *inner[E]
		lf           *leaf[E]
		min          E
		total, heads int
	}
	level := make([]sub, nl)
	for i, l := range ls {
		level[i] = sub{lf: l, min: l.items[0], total: int(l.n), heads: int(l.heads)}
	}
	leafKids := true
	for {
		np := (len(level) + fanout - 1) / fanout
		next := make([]sub, np)
		off := 0
		for i := range np {
			k := len(level) / np
			if i < len(level)%np {
				k++
			}
			nd := t.allocInner(leafKids)
			nd.n = int32(k)
			for q, c := range level[off : off+k] {
				if q > 0 {
					nd.keys[q] = c.min
				}
				nd.cnt[q], nd.hd[q] = int32(c.total), int32(c.heads)
				nd.leaves[q], nd.kids[q] = c.lf, c.nd
				if c.lf != nil {
					c.lf.parent = nd.id
				} else {
					c.nd.parent = nd
				}
				nd.total += c.total
				nd.heads += c.heads
			}
			next[i] = sub{nd: nd, min: level[off].min, total: nd.total, heads: nd.heads}
			off += k
		}
		leafKids = false
		level = next
		if np == 1 {
			t.root = level[0].nd
			return nil
		}
	}
}

// Cursor walks the entries in order from a position. The zero Cursor is invalid.
type Cursor[E any] struct {
	t   *Tree[E]
	l   *leaf[E]
	i   int32
	pos int
}

// At returns a cursor on the entry at position k, invalid if k is out of range.
func (t *Tree[E]) At(k int) Cursor[E] {
	if k < 0 || k >= t.n {
		return Cursor[E]{}
	}
	l, i := t.locate(k)
	return Cursor[E]{t: t, l: l, i: i, pos: k}
}

// Valid reports whether the cursor is on an entry.
func (c *Cursor[E]) Valid() bool { return c.l != nil }

// Item returns the entry under a valid cursor, and the zero E under an
// invalid one.
func (c *Cursor[E]) Item() E {
	if c.l == nil {
		var zero E
		return zero
	}
	return c.l.items[c.i]
}

// Pos returns the position of the entry under a valid cursor.
func (c *Cursor[E]) Pos() int { return c.pos }

// Next moves to the following entry; past the last the cursor becomes
// invalid. On an invalid cursor it does nothing.
func (c *Cursor[E]) Next() {
	if c.l == nil {
		return
	}
	c.pos++
	if c.i++; c.i < c.l.n {
		return
	}
	if c.l.next == noLeaf {
		c.l = nil
		return
	}
	c.l, c.i = c.t.leaves[c.l.next], 0
}

// Prev moves to the preceding entry; before the first the cursor becomes
// invalid. On an invalid cursor it does nothing.
func (c *Cursor[E]) Prev() {
	if c.l == nil {
		return
	}
	c.pos--
	if c.i > 0 {
		c.i--
		return
	}
	if c.l.prev == noLeaf {
		c.l = nil
		return
	}
	c.l = c.t.leaves[c.l.prev]
	c.i = c.l.n - 1
}

// check verifies every structural invariant; tests and Index.Check use it.
func (t *Tree[E]) check() error {
	var seq []E
	var lvs []*leaf[E]
	inners := 0
	var walk func(nd *inner[E], lo, hi *E, root bool) (int, int, error)
	walk = func(nd *inner[E], lo, hi *E, root bool) (int, int, error) {
		inners++
		if int(nd.id) >= len(t.inners) || t.inners[nd.id] != nd {
			return 0, 0, fmt.Errorf("inner node %d not registered", nd.id)
		}
		if nd.n < 1 || nd.n > t.innerMax || (!root && nd.n < t.innerMin) {
			return 0, 0, fmt.Errorf("inner node with %d children", nd.n)
		}
		total, heads := 0, 0
		for j := int32(0); j < nd.n; j++ {
			clo, chi := lo, hi
			if j > 0 {
				clo = &nd.keys[j]
			}
			if j+1 < nd.n {
				chi = &nd.keys[j+1]
			}
			var c, h int
			if nd.leafKids {
				l := nd.leaves[j]
				if l == nil || t.leaves[l.id] != l {
					return 0, 0, fmt.Errorf("leaf %d not registered", j)
				}
				if t.inners[l.parent] != nd {
					return 0, 0, fmt.Errorf("leaf %d has a wrong parent", l.id)
				}
				if l.n < 0 || l.n > t.leafMax || (!root || nd.n > 1) && l.n < t.leafMin {
					return 0, 0, fmt.Errorf("leaf %d with %d entries", l.id, l.n)
				}
				for i := int32(0); i < l.n; i++ {
					if clo != nil && t.cmp(l.items[i], *clo) < 0 || chi != nil && t.cmp(l.items[i], *chi) >= 0 {
						return 0, 0, fmt.Errorf("leaf %d entry %d outside its separators", l.id, i)
					}
				}
				lvs = append(lvs, l)
				seq = append(seq, l.items[:l.n]...)
				c, h = int(l.n), int(l.heads)
			} else {
				if nd.kids[j].parent != nd {
					return 0, 0, fmt.Errorf("inner node with a wrong parent")
				}
				var err error
				if c, h, err = walk(nd.kids[j], clo, chi, false); err != nil {
					return 0, 0, err
				}
				if nd.kids[j].total != c || nd.kids[j].heads != h {
					return 0, 0, fmt.Errorf("inner totals %d/%d, want %d/%d", nd.kids[j].total, nd.kids[j].heads, c, h)
				}
			}
			if int(nd.cnt[j]) != c || int(nd.hd[j]) != h {
				return 0, 0, fmt.Errorf("slot %d counts %d/%d, want %d/%d", j, nd.cnt[j], nd.hd[j], c, h)
			}
			total += c
			heads += h
		}
		return total, heads, nil
	}
	if t.root.parent != nil {
		return fmt.Errorf("root has a parent")
	}
	total, heads, err := walk(t.root, nil, nil, true)
	if err != nil {
		return err
	}
	if total != t.n || t.root.total != total || t.root.heads != heads {
		return fmt.Errorf("tree holds %d entries, Len says %d, root %d", total, t.n, t.root.total)
	}
	for i := 1; i < len(seq); i++ {
		if t.cmp(seq[i-1], seq[i]) >= 0 {
			return fmt.Errorf("entries %d and %d out of order", i-1, i)
		}
	}
	want := int(t.runHeads(seq, nil))
	if heads != want {
		return fmt.Errorf("tree counts %d group starts, want %d", heads, want)
	}
	for i, l := range lvs {
		prev, next := noLeaf, noLeaf
		if i > 0 {
			prev = lvs[i-1].id
		}
		if i+1 < len(lvs) {
			next = lvs[i+1].id
		}
		if l.prev != prev || l.next != next {
			return fmt.Errorf("leaf %d links %d/%d, want %d/%d", l.id, l.prev, l.next, prev, next)
		}
	}
	live := 0
	for _, l := range t.leaves {
		if l != nil {
			live++
		}
	}
	if live != len(lvs) || live+len(t.free) != len(t.leaves) {
		return fmt.Errorf("%d live leaves registered, %d in the tree", live, len(lvs))
	}
	live = 0
	for _, nd := range t.inners {
		if nd != nil {
			live++
		}
	}
	if live != inners || live+len(t.freeIn) != len(t.inners) {
		return fmt.Errorf("%d live inner nodes registered, %d in the tree", live, inners)
	}
	return nil
}
