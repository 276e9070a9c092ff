package gamify

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gamifykit/gamify/ledger"
	"github.com/gamifykit/gamify/store"
)

// Erase hard-deletes a user (Bricqs' participant delete), removing every
// trace of them: profile and preferences, the id
// index, totals, streaks, points, achievements and day aggregates (the state
// record and the Daily keyspace), idempotency keys, ledger entries, award-log
// records, claims, leaderboard entries of current runs (in memory and
// stored) and of frozen past runs. (Codes the user claimed stay marked as
// given out, by internal id only.) Other users keep their
// standings; a frozen run keeps its ranks with a gap.
//
// bbolt keeps freed pages' old bytes until they are reused, so the user's id
// and email may still be found in the file until Compact runs: close the
// engine and call Compact to make the deletion final.
//
// The ledger is keyed by sequence, so Erase scans all of it (and all frozen
// runs) while holding the writer: on a large store, schedule it off-peak.
func (a UsersAPI) Erase(ctx context.Context, id string) error {
	if err := validateUserID("User.ID", id); err != nil {
		return err
	}
	_, err := a.e.do(ctx, deleteCmd(id), a.e.now(), true)
	if err != nil {
		return fmt.Errorf("erase user %q: %w", id, err)
	}
	return nil
}

// deleteCmd hard-deletes a user.
type deleteCmd string

func (c deleteCmd) apply(w *writer, now time.Time) (any, error) {
	// Let the batch in flight land first, so that the store holds everything
	// but the open batch. Waiting releases the writer's lock, so it happens
	// before the txn begins: commands applied meanwhile are then no concern.
	for w.inFlight {
		w.sealable.Wait()
	}
	t := w.begin(now)
	if err := t.deleteUser(string(c)); err != nil {
		t.rollback()
		return nil, err
	}
	t.commit()
	return nil, nil
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
		return tx.Scan(store.Runs, nil, func(k, v []byte) error {
			if len(k) > 13 && k[12] == 0 { // a row, not a run summary
				d := decoder{b: v}
				if d.uvarint() == uid {
					del(store.Runs, k)
				}
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
	return nil
}

// Deactivate marks a user inactive (Bricqs' explicit deactivation): the
// user shows as inactive in Get and in lists, where UserQuery.Active
// filters on it. It is a mark for the game's own use: the user's events,
// awards and claims still apply, so nothing a device sends later is lost.
// Deactivating an inactive user changes nothing.
func (a UsersAPI) Deactivate(ctx context.Context, id string) (User, error) {
	return a.setActive(ctx, id, false)
}

// Activate marks a deactivated (or anonymized) user active again.
// Activating an active user changes nothing.
func (a UsersAPI) Activate(ctx context.Context, id string) (User, error) {
	return a.setActive(ctx, id, true)
}

func (a UsersAPI) setActive(ctx context.Context, id string, active bool) (User, error) {
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		u, err := t.user(id, false)
		if err != nil || u == nil {
			return nil, cmpErr(err, ErrNotFound)
		}
		if u.p.Active != active {
			u.p.Active, u.p.Updated = active, stamp(t.now)
			u.profileDirty = true
		}
		return u.p.user(), nil
	})
	if err != nil {
		return User{}, fmt.Errorf("set user %q active=%t: %w", id, active, err)
	}
	return v.(User), nil
}

// Anonymize clears a user's personal data (name, email, device tokens,
// attributes, time zone) and marks them inactive, keeping their numbers,
// history and standings under the same id.
func (a UsersAPI) Anonymize(ctx context.Context, id string) (User, error) {
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		u, err := t.user(id, false)
		if err != nil || u == nil {
			return nil, cmpErr(err, ErrNotFound)
		}
		p := &u.p
		p.Name, p.Email, p.TZ, p.Attributes, p.DeviceTokens = "", "", "", nil, nil
		p.Active, p.SubscribeToEmails, p.Updated = false, false, stamp(t.now)
		u.profileDirty = true
		return p.user(), nil
	})
	if err != nil {
		return User{}, fmt.Errorf("anonymize user %q: %w", id, err)
	}
	return v.(User), nil
}

// Compact rewrites the database at path into a fresh file with only live
// data, so that bytes of deleted records (a hard-deleted user's id and email
// among them) are gone from the file. The database must be closed.
func Compact(path string) error {
	return store.Compact(path, LockTimeoutDefault)
}
