package gamify

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
)

// The participants list is served from in-memory indexes: a row per user
// and one ordered set (google/btree) per sort key. They are built by the
// first List call (a scan of every user, holding the writer, so
// that no change is missed) and from then on kept current by the writer,
// which computes the rows of the users a batch touched when it seals it and
// publishes them after the commit. An engine that never lists participants
// pays nothing for them.

// UserRow is one row of a users list (Bricqs' participants list).
type UserRow struct {
	ID         string
	Name       string
	Active     bool
	Created    time.Time
	FirstEvent time.Time // zero before the first event
	LastEvent  time.Time
	Events     uint64
	// Points, Available and Level are in the points system of the query.
	Points    Amount
	Available Amount
	Level     string
}

// UserSort is a sort key of the participants list.
type UserSort string

// The sort keys.
const (
	SortCreated     UserSort = "created"
	SortTotalPoints UserSort = "total_points"
	SortLastEvent   UserSort = "last_event"
	SortID          UserSort = "id"
	SortName        UserSort = "name"
)

// UserQuery selects a page of users.
type UserQuery struct {
	Search     string   // substring of id or name (case-insensitive); empty for all
	Active     *bool    // filter on active, when set
	Level      string   // filter on the level in System, when set
	System     string   // points system of Points/Level; default the first created
	Sort       UserSort // default created
	Descending bool
	Page       int // from 1; default 1
	PageSize   int // 1–100; default 50
}

// UserPage is a page of users with the total matching count and the page
// it is (the query's, defaults filled in).
type UserPage struct {
	Rows     []UserRow
	Total    int
	Page     int
	PageSize int
}

type partRow struct {
	uid                            uint64
	id, name                       string
	active                         bool
	created, firstEvent, lastEvent int64
	events                         uint64
	points                         map[uint32]partPoints // by system ref
}

type partPoints struct {
	total, available Amount
	level            string
}

type partItem struct {
	key  int64
	skey string
	uid  uint64
}

type participants struct {
	mu      sync.RWMutex // guards everything below
	ready   bool
	systems uint32 // the catalogue's last points system ref when built: rows have an entry for each
	rows    map[uint64]*partRow
	trees   map[string]*btree.BTreeG[partItem] // by sort key; "points/<ref>" per system
}

func itemLess(a, b partItem) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	if a.skey != b.skey {
		return a.skey < b.skey
	}
	return a.uid < b.uid
}

func (r *partRow) items() map[string]partItem {
	m := map[string]partItem{
		string(SortCreated):   {key: r.created, uid: r.uid},
		string(SortLastEvent): {key: r.lastEvent, uid: r.uid},
		string(SortID):        {skey: r.id, uid: r.uid},
		string(SortName):      {skey: strings.ToLower(r.name), uid: r.uid},
	}
	for ref, p := range r.points {
		m[fmt.Sprintf("points/%d", ref)] = partItem{key: p.total.Micros(), uid: r.uid}
	}
	return m
}

// put replaces a user's row (nil row: the user was deleted). p.mu is held.
func (p *participants) put(uid uint64, row *partRow) {
	if old, ok := p.rows[uid]; ok {
		for k, it := range old.items() {
			p.trees[k].Delete(it)
		}
		delete(p.rows, uid)
	}
	if row == nil {
		return
	}
	p.rows[uid] = row
	for k, it := range row.items() {
		t, ok := p.trees[k]
		if !ok {
			t = btree.NewG(32, itemLess)
			p.trees[k] = t
		}
		t.ReplaceOrInsert(it)
	}
}

// rowOf returns a user's row, with an entry for every points system up to
// ref systems (zero where the user has no balance), so that a listing
// sorted by points holds every user.
func rowOf(p *profile, s *userState, systems uint32) *partRow {
	r := &partRow{uid: p.UID, id: p.ID, name: p.Name, active: p.Active, created: p.Created.UnixNano(),
		firstEvent: s.FirstEvent, lastEvent: s.LastEvent, events: s.Events, points: make(map[uint32]partPoints, systems)}
	for ref := uint32(1); ref <= systems; ref++ {
		r.points[ref] = partPoints{}
	}
	for _, x := range s.Points {
		lvl, _ := x.St.LevelKey()
		r.points[x.Ref] = partPoints{total: x.St.Total(), available: x.St.Available(), level: lvl}
	}
	return r
}

// sealRows computes the rows of the users a batch touched, to publish after
// its commit. w.mu is held.
func (w *writer) sealRows(ids []string) func() {
	pt := &w.eng.parts
	pt.mu.RLock()
	ready, systems := pt.ready, pt.systems
	pt.mu.RUnlock()
	if !ready {
		return nil
	}
	if systems != w.cat.points.lastSystemRef {
		pt.reset() // a new points system: every row needs an entry; rebuilt when next listed
		return nil
	}
	if len(ids) == 0 {
		return nil
	}
	rows := make([]*partRow, 0, len(ids))
	for _, id := range ids {
		if u, ok := w.users[id]; ok {
			rows = append(rows, rowOf(&u.p, &u.s, systems))
		}
	}
	return func() {
		pt.mu.Lock()
		for _, r := range rows {
			pt.put(r.uid, r)
		}
		pt.mu.Unlock()
	}
}

// build fills the indexes from the store, holding the writer so that every
// later change reaches them through sealRows.
func (e *Engine) buildParticipants() error {
	pt := &e.parts
	pt.mu.RLock()
	ready := pt.ready
	pt.mu.RUnlock()
	if ready {
		return nil
	}
	w := e.w
	w.lockLanded()
	defer w.mu.Unlock()
	pt.mu.Lock()
	defer pt.mu.Unlock()
	if pt.ready {
		return nil
	}
	pt.rows, pt.trees = map[uint64]*partRow{}, map[string]*btree.BTreeG[partItem]{}
	pt.systems = w.cat.points.lastSystemRef
	err := e.db.View(func(tx *store.Tx) error {
		return scanUsers(tx, func(p *profile, s *userState) error {
			pt.put(p.UID, rowOf(p, s, pt.systems))
			return nil
		})
	})
	if err != nil {
		return err
	}
	// Users of the open batch are not in the store yet: index their working
	// state now; the commit publishes the same rows again.
	for id := range w.dirtyUsers {
		if u, ok := w.users[id]; ok {
			pt.put(u.p.UID, rowOf(&u.p, &u.s, pt.systems))
		}
	}
	pt.ready = true
	return nil
}

// List returns a page of users (Bricqs' participants), filtered, searched and sorted,
// with the total count of matching users. Sorting and paging use the
// indexes; a search or a filter walks them in order and tests each row.
// Sorted by total_points, users without a balance in the system count as 0.
// The first call builds the indexes (a scan of every user).
func (a UsersAPI) List(ctx context.Context, q UserQuery) (UserPage, error) {
	if err := a.e.live(); err != nil {
		return UserPage{}, err
	}
	q.Page = cmp.Or(q.Page, 1)
	q.PageSize = cmp.Or(q.PageSize, 50)
	q.Sort = cmp.Or(q.Sort, SortCreated)
	if q.Page < 1 {
		return UserPage{}, gamifytype.Invalid("UserQuery.Page", q.Page, "must be at least 1")
	}
	if q.PageSize < 1 || q.PageSize > 100 {
		return UserPage{}, gamifytype.Invalid("UserQuery.PageSize", q.PageSize, "must be between 1 and 100")
	}
	cat := a.e.cat.Load()
	var sysRef uint32
	if q.System != "" {
		s, ok := cat.points.systems[q.System]
		if !ok {
			return UserPage{}, gamifytype.Invalid("UserQuery.System", q.System, "is not a points system")
		}
		sysRef = s.ref
	} else {
		for ref := uint32(1); ref <= cat.points.lastSystemRef; ref++ {
			if _, ok := cat.points.systemByRef[ref]; ok {
				sysRef = ref
				break
			}
		}
	}
	treeKey := string(q.Sort)
	switch q.Sort {
	case SortCreated, SortLastEvent, SortID, SortName:
	case SortTotalPoints:
		treeKey = fmt.Sprintf("points/%d", sysRef)
	default:
		return UserPage{}, gamifytype.Invalid("UserQuery.Sort", q.Sort, "must be created, total_points, last_event, id or name")
	}
	if err := a.e.buildParticipants(); err != nil {
		return UserPage{}, err
	}
	pt := &a.e.parts
	pt.mu.RLock()
	defer pt.mu.RUnlock()
	search := strings.ToLower(q.Search)
	match := func(r *partRow) bool {
		if q.Active != nil && r.active != *q.Active {
			return false
		}
		if q.Level != "" && r.points[sysRef].level != q.Level {
			return false
		}
		return search == "" || strings.Contains(strings.ToLower(r.id), search) || strings.Contains(strings.ToLower(r.name), search)
	}
	filtered := q.Active != nil || q.Level != "" || search != ""
	skip := (q.Page - 1) * q.PageSize
	page := UserPage{Page: q.Page, PageSize: q.PageSize}
	visit := func(it partItem) bool {
		r := pt.rows[it.uid]
		if filtered && !match(r) {
			return true
		}
		if page.Total >= skip && len(page.Rows) < q.PageSize {
			page.Rows = append(page.Rows, r.public(sysRef))
		}
		page.Total++
		// Without filters the total is the index size: stop after the page.
		return filtered || len(page.Rows) < q.PageSize
	}
	t := pt.trees[treeKey]
	if t != nil {
		if q.Descending {
			t.Descend(visit)
		} else {
			t.Ascend(visit)
		}
	}
	if !filtered {
		page.Total = len(pt.rows)
		if q.Sort == SortTotalPoints && t != nil {
			page.Total = t.Len()
		}
	}
	return page, nil
}

func (r *partRow) public(sysRef uint32) UserRow {
	p := UserRow{ID: r.id, Name: r.name, Active: r.active, Created: time.Unix(0, r.created).UTC(), Events: r.events}
	if r.firstEvent != 0 {
		p.FirstEvent = time.Unix(0, r.firstEvent).UTC()
		p.LastEvent = time.Unix(0, r.lastEvent).UTC()
	}
	if x, ok := r.points[sysRef]; ok {
		p.Points, p.Available, p.Level = x.total, x.available, x.level
	}
	return p
}

func (p *participants) isReady() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.ready
}

// reset drops the indexes, to be rebuilt by the next listing: after a
// failed commit, whose batch may or may not have landed, they cannot be
// patched.
func (p *participants) reset() {
	p.mu.Lock()
	p.ready, p.rows, p.trees = false, nil, nil
	p.mu.Unlock()
}

// forget drops a deleted user's row, after the delete commits.
func (p *participants) forget(uid uint64) func() {
	return func() {
		p.mu.Lock()
		if p.ready {
			p.put(uid, nil)
		}
		p.mu.Unlock()
	}
}
