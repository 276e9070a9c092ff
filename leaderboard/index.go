package leaderboard

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/gamifykit/gamify/gamifytype"
)

// Order is a board's sort direction on (score, subscore).
type Order uint8

const (
	// Desc lists the highest score first. It is the default.
	Desc Order = iota
	// Asc lists the lowest score first (fastest time, fewest moves).
	Asc
)

// String returns "desc" or "asc".
func (o Order) String() string {
	switch o {
	case Desc:
		return "desc"
	case Asc:
		return "asc"
	}
	return fmt.Sprintf("Order(%d)", uint8(o))
}

// ParseOrder parses "desc" or "asc"; "" means Desc. field names the input in the error.
func ParseOrder(field, s string) (Order, error) {
	switch s {
	case "", "desc":
		return Desc, nil
	case "asc":
		return Asc, nil
	}
	return 0, gamifytype.Invalid(field, s, "must be desc or asc")
}

// Ties is a tie policy: how equal (score, subscore) values share ranks. The
// methods that take one rank an unknown Ties as Competition.
type Ties uint8

const (
	// Competition gives tied entries the same rank and skips the ranks they
	// use up: 1, 2, 2, 4. It is the default.
	Competition Ties = iota
	// Dense gives tied entries the same rank without gaps: 1, 2, 2, 3.
	Dense
	// Unique gives every entry its own rank in listing order: 1, 2, 3, 4.
	Unique
)

// String returns "competition", "dense" or "unique".
func (p Ties) String() string {
	switch p {
	case Competition:
		return "competition"
	case Dense:
		return "dense"
	case Unique:
		return "unique"
	}
	return fmt.Sprintf("Ties(%d)", uint8(p))
}

// ParseTies parses "competition", "dense" or "unique"; "" means Competition.
// field names the input in the error.
func ParseTies(field, s string) (Ties, error) {
	switch s {
	case "", "competition":
		return Competition, nil
	case "dense":
		return Dense, nil
	case "unique":
		return Unique, nil
	}
	return 0, gamifytype.Invalid(field, s, "must be competition, dense or unique")
}

// Entry is one participant's standing on a board. Field order keeps it at 32
// bytes, stored inline in the tree's leaves.
type Entry struct {
	Score int64
	Sub   int64 // subscore, the first tie-breaker, sorted like Score
	// Reached orders ties: a caller-supplied, increasing sequence (e.g. the
	// ledger sequence of the change that set the score). Lower is listed first.
	Reached uint64
	User    uint32 // interned user id, the last tie-breaker
}

// Standing is an entry with its 0-based position and its rank under a tie policy.
type Standing struct {
	Entry
	Position int
	Rank     int
}

func compareTail(a, b Entry) int {
	if a.Reached != b.Reached {
		return cmp.Compare(a.Reached, b.Reached)
	}
	return cmp.Compare(a.User, b.User)
}

func compareDesc(a, b Entry) int {
	if a.Score != b.Score {
		return cmp.Compare(b.Score, a.Score)
	}
	if a.Sub != b.Sub {
		return cmp.Compare(b.Sub, a.Sub)
	}
	return compareTail(a, b)
}

func compareAsc(a, b Entry) int {
	if a.Score != b.Score {
		return cmp.Compare(a.Score, b.Score)
	}
	if a.Sub != b.Sub {
		return cmp.Compare(a.Sub, b.Sub)
	}
	return compareTail(a, b)
}

func sameScore(a, b Entry) bool { return a.Score == b.Score && a.Sub == b.Sub }

// Index is the in-memory ranking of one board (or run, or breakdown group):
// every query is O(log n) on a counted B-tree, and updates of known users do
// not allocate.
//
// An Index is not safe for concurrent use. Read-only methods may run
// concurrently with each other (the engine guards an Index with a RWMutex).
type Index struct {
	order Order
	tree  *Tree[Entry]
	users handles
}

// New returns an empty index sorted in order. It panics on an unknown Order.
func New(order Order) *Index {
	x := &Index{order: order}
	c := compareDesc
	switch order {
	case Desc:
	case Asc:
		c = compareAsc
	default:
		panic(fmt.Sprintf("leaderboard: New(%v)", order))
	}
	x.tree = NewTree(Config[Entry]{Compare: c, Same: sameScore, Floor: first, Moved: x.moved})
	return x
}

func (x *Index) moved(e Entry, h Handle) { x.users.set(e.User, uint32(h)) }

// Order returns the index's sort direction.
func (x *Index) Order() Order { return x.order }

// Len returns the number of participants.
func (x *Index) Len() int { return x.tree.Len() }

// locate finds user's leaf through its handle, then the entry in the leaf.
func (x *Index) locate(user uint32) (*leaf[Entry], int32, bool) {
	h, ok := x.users.get(user)
	if !ok {
		return nil, 0, false
	}
	l := x.tree.leaves[h]
	for i := range l.n {
		if l.items[i].User == user {
			return l, i, true
		}
	}
	panic(fmt.Sprintf("leaderboard: user %d not in its leaf %d", user, h))
}

// where locates user's entry to detail d without comparing keys: the handle
// gives the leaf, the parent pointers the path.
func (x *Index) where(user uint32, d Detail) (Entry, Where, bool) {
	l, i, ok := x.locate(user)
	if !ok {
		return Entry{}, Where{}, false
	}
	var p path[Entry]
	x.tree.pathTo(l, &p)
	return l.items[i], x.tree.where(&p, l, i, d), true
}

// remove deletes user's entry, known to be in l at i, and returns where it was.
func (x *Index) remove(l *leaf[Entry], i int32, want bool, d Detail) Where {
	var p path[Entry]
	x.tree.pathTo(l, &p)
	return x.tree.deleteAt(&p, l, i, want, d)
}

// move replaces l.items[i] with e and returns where the entry was and is.
// When e falls strictly between two other entries of the same leaf (a small
// score change, the common case on metric and points boards) it stays in the
// leaf: no descent, only the leaf's shifts and the bottom-up path.
func (x *Index) move(l *leaf[Entry], i int32, e Entry, want bool, d Detail) (before, after Where) {
	t := x.tree
	lo, hi := int32(0), l.n-1
	if lo == i {
		lo++
	}
	if hi == i {
		hi--
	}
	if l.n > t.leafMin && lo < hi && t.cmp(l.items[lo], e) < 0 && t.cmp(e, l.items[hi]) < 0 {
		if lo == 0 && hi == l.n-1 { // x is not at an end either
			return t.moveWithin(l, i, e, want, d)
		}
		var p path[Entry]
		t.pathTo(l, &p)
		before = t.deleteAt(&p, l, i, want, d) // l stays above leafMin: no rebalancing
		j, _ := l.search(e, t.cmp)
		t.insertAt(&p, l, j, e)
		if want {
			after = t.where(&p, l, j, d)
		}
		return before, after
	}
	before = x.remove(l, i, want, d)
	after, _ = t.insert(e, want, d)
	return before, after
}

// Get returns user's entry.
func (x *Index) Get(user uint32) (Entry, bool) {
	l, i, ok := x.locate(user)
	if !ok {
		return Entry{}, false
	}
	return l.items[i], true
}

// Set inserts user's entry or moves it to the new score. It returns the
// previous entry and whether there was one. Reached should grow with every
// change so that whoever reached a score first stays ahead within the tie.
func (x *Index) Set(user uint32, score, sub int64, reached uint64) (Entry, bool) {
	e := Entry{Score: score, Sub: sub, Reached: reached, User: user}
	l, i, ok := x.locate(user)
	if !ok {
		x.users.add(user, x.tree.Len()+1)
		x.tree.Insert(e)
		return Entry{}, false
	}
	old := l.items[i]
	if old != e {
		x.move(l, i, e, false, PosOnly)
	}
	return old, true
}

// Remove deletes user's entry and returns it.
func (x *Index) Remove(user uint32) (Entry, bool) {
	l, i, ok := x.locate(user)
	if !ok {
		return Entry{}, false
	}
	old := l.items[i]
	x.remove(l, i, false, PosOnly)
	x.users.del(user)
	return old, true
}

// Build replaces the contents with entries, for the rebuild at open. It sorts
// entries in place (a sorted slice is detected in O(n)) and fails, changing
// nothing, if a user appears twice.
func (x *Index) Build(entries []Entry) error {
	c := x.tree.cmp
	if !slices.IsSortedFunc(entries, c) {
		slices.SortFunc(entries, c)
	}
	maxUser, seen := uint32(0), handles{}
	for _, e := range entries {
		maxUser = max(maxUser, e.User)
	}
	seen.reserve(maxUser, len(entries))
	for _, e := range entries {
		if _, dup := seen.get(e.User); dup {
			return gamifytype.Invalid("Build.User", e.User, "appears more than once")
		}
		seen.set(e.User, 0)
	}
	x.users = seen
	return x.tree.Build(entries)
}

// Change is the outcome of Update.
type Change struct {
	Old     Entry // the previous entry, when Existed
	Existed bool
	OldRank int // rank before the update; 0 for a newcomer
	Rank    int // rank after the update
}

// Update is Set that also returns the user's rank before and after under the
// tie policy: what an event result reports. The removal and the insertion
// compute the ranks on their way, so it costs about as much as Set alone,
// and a small score change that stays within its leaf needs no descent.
func (x *Index) Update(user uint32, score, sub int64, reached uint64, ties Ties) Change {
	e := Entry{Score: score, Sub: sub, Reached: reached, User: user}
	l, i, ok := x.locate(user)
	var c Change
	switch {
	case !ok:
		x.users.add(user, x.tree.Len()+1)
	case l.items[i] == e:
		r, _ := x.Rank(user, ties)
		return Change{Old: e, Existed: true, OldRank: r, Rank: r}
	default:
		old := l.items[i]
		before, after := x.move(l, i, e, true, detail(ties))
		return Change{Old: old, Existed: true, OldRank: rankAt(before, ties), Rank: rankAt(after, ties)}
	}
	w, _ := x.tree.InsertWhere(e, detail(ties))
	c.Rank = rankAt(w, ties)
	return c
}

// detail is what a rank under ties needs to know.
func detail(ties Ties) Detail {
	switch ties {
	case Unique:
		return PosOnly
	case Dense:
		return WithGroups
	}
	return WithFirst
}

func rankAt(w Where, ties Ties) int {
	switch ties {
	case Unique:
		return w.Pos + 1
	case Dense:
		return w.Groups + 1
	}
	return w.First + 1
}

// Position returns user's 0-based position in listing order.
func (x *Index) Position(user uint32) (int, bool) {
	_, w, ok := x.where(user, PosOnly)
	return w.Pos, ok
}

// Rank returns user's 1-based rank under the tie policy.
func (x *Index) Rank(user uint32, ties Ties) (int, bool) {
	_, w, ok := x.where(user, detail(ties))
	if !ok {
		return 0, false
	}
	return rankAt(w, ties), true
}

// groupRank is the rank shared by e's tie group under Competition or Dense.
func (x *Index) groupRank(e Entry, ties Ties) int {
	ahead := x.tree.Seek(first(e))
	if ties == Dense {
		return x.tree.Groups(ahead) + 1
	}
	return ahead + 1
}

// first returns the smallest possible key with e's (score, subscore).
func first(e Entry) Entry { return Entry{Score: e.Score, Sub: e.Sub} }

// Ahead returns how many entries have a strictly better (score, subscore) than
// the given one: a newcomer with that score gets competition rank Ahead+1.
func (x *Index) Ahead(score, sub int64) int {
	return x.tree.Seek(Entry{Score: score, Sub: sub})
}

// Percentile returns the share, in percent, of all participants whose
// (score, subscore) is strictly worse than user's: 0 for the last group,
// approaching 100 for a lone leader of a large board. Ties count as not below.
func (x *Index) Percentile(user uint32) (float64, bool) {
	e, ok := x.Get(user)
	if !ok {
		return 0, false
	}
	upTo, found := x.tree.Rank(Entry{Score: e.Score, Sub: e.Sub, Reached: math.MaxUint64, User: math.MaxUint32})
	if found {
		upTo++
	}
	n := x.tree.Len()
	return 100 * float64(n-upTo) / float64(n), true
}

// At returns the entry at 0-based position k.
func (x *Index) At(k int) (Entry, bool) { return x.tree.Select(k) }

// Best returns the first-listed entry.
func (x *Index) Best() (Entry, bool) { return x.tree.Select(0) }

// Worst returns the last-listed entry: the one a max-participants board evicts.
func (x *Index) Worst() (Entry, bool) { return x.tree.Select(x.tree.Len() - 1) }

// Range appends to dst the standings at positions offset .. offset+limit-1
// (clipped to the board) ranked under ties, and returns the extended slice.
// With enough capacity in dst it does not allocate.
func (x *Index) Range(offset, limit int, ties Ties, dst []Standing) []Standing {
	offset = max(offset, 0)
	limit = min(limit, x.Len()) // offset+limit cannot overflow
	if limit <= 0 {
		return dst
	}
	x.Each(offset, ties, func(s Standing) bool {
		dst = append(dst, s)
		return s.Position+1 < offset+limit
	})
	return dst
}

// Top appends the first n standings to dst.
func (x *Index) Top(n int, ties Ties, dst []Standing) []Standing {
	return x.Range(0, n, ties, dst)
}

// Around appends to dst the standings of up to above entries before user,
// user, and up to below entries after, and reports whether user is listed.
func (x *Index) Around(user uint32, above, below int, ties Ties, dst []Standing) ([]Standing, bool) {
	pos, ok := x.Position(user)
	if !ok {
		return dst, false
	}
	n := x.Len()
	from := max(pos-min(max(above, 0), n), 0)
	return x.Range(from, pos-from+1+min(max(below, 0), n), ties, dst), true
}

// Each calls fn with the standings from position offset on, in order, until
// fn returns false. Ranks after the first are derived from the previous entry,
// so a walk costs one descent plus O(1) per entry.
func (x *Index) Each(offset int, ties Ties, fn func(Standing) bool) {
	c := x.tree.At(max(offset, 0))
	if !c.Valid() {
		return
	}
	e := c.Item()
	s := Standing{Entry: e, Position: c.Pos(), Rank: c.Pos() + 1}
	if ties != Unique && s.Position > 0 {
		s.Rank = x.groupRank(e, ties)
	}
	for {
		if !fn(s) {
			return
		}
		if c.Next(); !c.Valid() {
			return
		}
		prev := s.Entry
		s.Entry, s.Position = c.Item(), c.Pos()
		switch {
		case ties == Unique:
			s.Rank = s.Position + 1
		case sameScore(prev, s.Entry):
		case ties == Dense:
			s.Rank++
		default:
			s.Rank = s.Position + 1
		}
	}
}

// Check verifies the index's internal invariants (order, subtree counts, the
// user lookup) in O(n). The engine's Check calls it; it returns a description
// of the first violation.
func (x *Index) Check() error {
	if err := x.tree.check(); err != nil {
		return fmt.Errorf("leaderboard: %w", err)
	}
	n := 0
	for h, l := range x.tree.leaves {
		if l == nil {
			continue
		}
		for _, e := range l.items[:l.n] {
			got, ok := x.users.get(e.User)
			if !ok || got != uint32(h) {
				return fmt.Errorf("leaderboard: user %d maps to leaf %d (%v), lives in %d", e.User, got, ok, h)
			}
			n++
		}
	}
	if k := x.users.len(); k != n {
		return fmt.Errorf("leaderboard: lookup holds %d users, tree %d", k, n)
	}
	return nil
}

// handles maps user ids to leaf handles in 4 bytes per id: a slice indexed by
// user when the ids on the board are dense, a map when they are sparse (a
// breakdown group or a small board among a million interned users would
// otherwise pay 4 bytes for every user id in the process).
type handles struct {
	dense  []uint32 // handle+1 per user id, 0 = absent; nil in sparse mode
	sparse map[uint32]uint32
	top    uint32 // largest id added in sparse mode
}

// denseFactor bounds the dense slice to denseFactor × 4 bytes per entry.
const denseFactor = 4

func (h *handles) get(u uint32) (uint32, bool) {
	if h.dense != nil {
		if int(u) < len(h.dense) && h.dense[u] != 0 {
			return h.dense[u] - 1, true
		}
		return 0, false
	}
	v, ok := h.sparse[u]
	return v, ok
}

// set records the handle of a user that add or reserve made room for.
func (h *handles) set(u, v uint32) {
	if h.dense != nil {
		h.dense[u] = v + 1
		return
	}
	h.sparse[u] = v
}

func (h *handles) del(u uint32) {
	if h.dense != nil {
		h.dense[u] = 0
		return
	}
	delete(h.sparse, u)
}

// reserve sets up an empty lookup for n users with ids up to maxUser.
func (h *handles) reserve(maxUser uint32, n int) {
	if uint64(maxUser) < uint64(denseFactor*max(n, 1)) {
		h.dense, h.sparse, h.top = make([]uint32, int(maxUser)+1), nil, 0
		return
	}
	h.dense, h.sparse, h.top = nil, make(map[uint32]uint32, n), maxUser
}

// add makes room for a new user u, the board then having n users, switching
// between the representations when the density crosses denseFactor.
func (h *handles) add(u uint32, n int) {
	fits := uint64(u) < uint64(denseFactor*n)
	switch {
	case h.dense == nil && h.sparse == nil:
		h.reserve(u, n)
	case h.dense != nil && int(u) < len(h.dense):
	case h.dense != nil && fits:
		h.dense = append(h.dense, make([]uint32, int(u)+1-len(h.dense))...)
		h.dense = h.dense[:cap(h.dense)]
	case h.dense != nil:
		h.top = u
		m := make(map[uint32]uint32, n)
		for id, v := range h.dense {
			if v != 0 {
				m[uint32(id)] = v - 1
			}
		}
		h.dense, h.sparse = nil, m
	default:
		h.top = max(h.top, u)
		if uint64(h.top) < uint64(denseFactor*n) {
			d := make([]uint32, int(h.top)+1)
			for id, v := range h.sparse {
				d[id] = v + 1
			}
			h.dense, h.sparse = d, nil
		}
	}
}

func (h *handles) len() int {
	if h.dense == nil {
		return len(h.sparse)
	}
	n := 0
	for _, v := range h.dense {
		if v != 0 {
			n++
		}
	}
	return n
}
