package gamify

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/gamifykit/gamify/store"
)

// The participants list is served from in-memory indexes: a row per user
// and one ordered set (google/btree) per sort key. They are built by the
// first List call (a scan of every user, holding the writer, so
// that no change is missed) and from then on kept current by the writer,
// which computes the rows of the users a batch touched when it seals it and
// publishes them after the commit. An engine that never lists participants
// pays nothing for them.

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
