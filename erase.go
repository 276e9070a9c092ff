package gamify

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/gamifykit/gamify/ledger"
	"github.com/gamifykit/gamify/store"
)

// deleteCmd hard-deletes a user.
type deleteCmd string

func (c deleteCmd) apply(w *writer, now time.Time) (any, error) {
	// Let the batch in flight land first, so that the store holds everything
	// but the open batch. Waiting releases the writer's lock, so it happens
	// before the txn begins: commands applied meanwhile are then no concern.
	for w.inFlight {
		w.waitSealable()
	}
	t := w.begin(now)
	if err := t.deleteUser(string(c)); err != nil {
		t.rollback()
		return nil, err
	}
	return nil, t.commit()
}

func (t *txn) deleteUser(id string) error {
	w := t.w
	u, err := w.loadUser(id)
	if err != nil {
		return err
	}
	if u == nil {
		return ErrNotFound
	}
	uid := u.p.UID
	up := uidKey(uid)
	t.newUsers--
	t.publish = append(t.publish, w.eng.parts.forget(uid))
	t.publish = append(t.publish, w.eng.years.reset) // rebuilt without the user when next asked for
	for _, c := range u.s.Ach.Completions() {
		t.achCount[c.Key]--
	}
	del := func(ks store.Keyspace, k []byte) {
		t.writes = append(t.writes, write{ks, bytes.Clone(k), nil})
	}
	err = w.db.View(func(tx *store.Tx) error {
		for _, ks := range []store.Keyspace{store.Daily, store.Idempotency, store.Claims} {
			if err := tx.Scan(ks, up, func(k, _ []byte) error { del(ks, k); return nil }); err != nil {
				return err
			}
		}
		if err := tx.Scan(store.Awards, nil, func(k, v []byte) error {
			if u, ok := awardUser(v); ok && u == uid {
				del(store.Awards, k)
			}
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Scan(store.Ledger, nil, func(k, v []byte) error {
			if en, err := ledger.Unmarshal(k, v); err == nil && en.User == uid {
				del(store.Ledger, k)
			}
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Scan(store.Outbox, nil, func(k, v []byte) error {
			if u, _, ok := outboxUser(v); ok && u == id {
				del(store.Outbox, k)
			}
			return nil
		}); err != nil {
			return err
		}
		// Claimed codes stay claimed (a code is never handed out twice),
		// but no longer say by whom.
		if err := tx.Scan(store.Meta, []byte("code/"), func(k, v []byte) error {
			if bytes.Equal(v, up) {
				t.writes = append(t.writes, write{store.Meta, bytes.Clone(k), uidKey(0)})
			}
			return nil
		}); err != nil {
			return err
		}
		// A frozen run loses the user's row and counts one participant
		// fewer: its summary (key ending 1) sorts after its rows (0).
		var rowOf []byte // the run (board ref and start) whose row was removed
		return tx.Scan(store.Runs, nil, func(k, v []byte) error {
			switch {
			case len(k) > 13 && k[12] == 0: // a row
				d := decoder{b: v}
				if d.uvarint() == uid {
					del(store.Runs, k)
					rowOf = bytes.Clone(k[:12])
				}
			case len(k) == 13 && k[12] == 1 && bytes.Equal(k[:12], rowOf): // its summary
				d := decoder{b: v}
				end, n := d.varint(), d.uvarint()
				if d.err {
					return fmt.Errorf("gamify: corrupt run summary %x", k)
				}
				t.writes = append(t.writes, write{store.Runs, bytes.Clone(k), runSummary(time.Unix(0, end), int(max(n, 1)-1))})
				rowOf = nil
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	del(store.Users, []byte(id))
	del(store.UserIDs, up)
	del(store.State, up)
	t.dropUserBoosts(id)

	// The open batch may hold writes of this user: drop them.
	b := &w.open
	b.writes = slices.DeleteFunc(b.writes, func(wr write) bool {
		switch wr.ks {
		case store.Ledger:
			en, err := ledger.Unmarshal(wr.key, wr.val)
			return err == nil && en.User == uid
		case store.Awards:
			u, ok := awardUser(wr.val)
			return ok && u == uid
		case store.Daily, store.Idempotency, store.State, store.UserIDs, store.Claims:
			return bytes.HasPrefix(wr.key, up)
		case store.Users:
			return string(wr.key) == id
		}
		return false
	})
	b.dropNotes(func(n Notification) bool { return n.UserID() == id })
	for i, wr := range b.writes {
		if wr.ks == store.Meta && bytes.HasPrefix(wr.key, []byte("code/")) && bytes.Equal(wr.val, up) {
			b.writes[i].val = uidKey(0)
		}
	}
	delete(w.users, id)
	delete(w.dirtyUsers, id)
	for k := range w.days {
		if bytes.HasPrefix(k[:], up) {
			delete(w.days, k)
			delete(w.dirtyDaily, k)
		}
	}
	for k := range w.pendingIdem {
		if len(k) >= 8 && k[:8] == string(up) {
			delete(w.pendingIdem, k)
		}
	}
	for ref := range w.cat.streakByRef {
		w.streakQueue.Remove(streakDueID(ref, id))
	}
	for ref := range w.cat.points.systemByRef {
		w.timeQueue.Remove(timeDueID(ref, id))
	}
	w.remindQueue.Remove(id)
	// Leaderboard indexes of unfinished runs.
	for _, ub := range u.s.Boards {
		rt := w.eng.boardRT(ub.Ref)
		rt.mu.Lock()
		if run, ok := rt.runs[ub.Run]; ok {
			if x, ok := run.groups[ub.Group]; ok {
				x.Remove(uint32(uid))
			}
		}
		rt.mu.Unlock()
	}
	t.eraseChallenges(u)
	return t.eraseLeagues(uint32(uid))
}

// dropUserBoosts removes the per-user boosts of a user being erased from
// the catalogue, archived ones included, rather than anonymizing them: a
// boost's key may itself name the user (an admin's "double-alice"), a
// boost without its user multiplies nothing, and a new user with the same
// id must not inherit it. Awards it multiplied belong to the erased user
// and go with them, so nothing refers to the key any more; it is free
// again.
func (t *txn) dropUserBoosts(id string) {
	var keys []string
	for key, b := range t.w.cat.points.boosts {
		if b.Scope == BoostUser && b.User == id {
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return
	}
	p := &t.catalogForWrite().points
	for _, key := range keys {
		delete(p.boosts, key)
		t.writes = append(t.writes, write{store.Definitions, []byte(defBoost + key), nil})
	}
	p.index()
}

// Compact rewrites the database at path into a fresh file with only live
// data, so that bytes of deleted records (a hard-deleted user's id and email
// among them) are gone from the file. The database must be closed. A
// command log left beside it by a crash is first replayed and folded in (an
// Open and a Close with the default options: due jobs catch up as at any
// Open), so that no command of a deleted user survives in it either.
func Compact(path string) error {
	if _, err := os.Stat(logDir(path)); err == nil {
		e, err := Open(path, nil)
		if err != nil {
			return fmt.Errorf("gamify: compact %s: fold the command log: %w", path, err)
		}
		if err := e.Close(); err != nil {
			return fmt.Errorf("gamify: compact %s: fold the command log: %w", path, err)
		}
	}
	return store.Compact(path, LockTimeoutDefault)
}
