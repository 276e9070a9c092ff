package bench

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/gamifykit/gamify/achievement"
	"github.com/gamifykit/gamify/cmdlog"
	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/leaderboard"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/streak"
)

// BenchmarkBufferedFloor is the least work behind a Buffered event of
// BenchmarkTrackFull (one producer, 10k users), done with the engine's own
// packages and no engine: the floor the Buffered row is measured against.
//
// Each event finds its user by id in a map, adds to the metric total,
// applies the streak (streak.Apply), the points system's 3 triggers and
// global boost (points.OnMetric), the 5 achievements (achievement.OnMetric)
// and the 3 boards' 4 indexes (the weekly board's breakdown by country is a
// second index), and encodes its command record (cmdlog.AppendCommand, the
// user id, the metric and the value). A goroutine appends each 1024 records
// to a command log and fsyncs it, as the engine's committer does; every
// 65536 events the producer encodes each changed user's state once (the
// three packages' AppendBinary and the totals) and a second goroutine
// writes them into bbolt in one transaction, as a checkpoint does.
//
// Left out, which the engine does per event: the event's result, the
// ledger entries, award record and outbox notes, day and year aggregates,
// rank history, idempotency, the copy of the user's record a failing
// command is undone by, and the staging that makes every batch readable
// as one snapshot.
func BenchmarkBufferedFloor(b *testing.B) {
	f := newBufferedFloor(b, users)
	b.ReportAllocs()
	runProducers(b, 1, f.track)
	f.close(b)
}

type floorUser struct {
	total gamifytype.Amount
	st    streak.State
	pts   points.State
	ach   achievement.State
	dirty bool
}

type bufferedFloor struct {
	ids    []string
	index  map[string]uint32
	users  []floorUser
	boards [3]*leaderboard.Index
	groups [3]*leaderboard.Index // the weekly board's, by country
	streak streak.Definition
	rules  points.Rules
	cat    *achievement.Catalog
	now    time.Time
	seq    uint64

	recs    []byte // the open batch's command records
	ends    []int
	batches chan floorBatch // to the log's goroutine
	spares  chan floorBatch
	states  chan []floorState // to the checkpoint's goroutine
	done    chan error        // one per goroutine, when its channel closes
	n       int64
}

type floorBatch struct {
	recs []byte
	ends []int
}

type floorState struct {
	key [8]byte
	val []byte
}

const (
	floorLogBatch   = 1024
	floorCheckpoint = 65536
)

func newBufferedFloor(b *testing.B, n int) *bufferedFloor {
	f := &bufferedFloor{
		ids:     userIDs(n),
		index:   make(map[string]uint32, n),
		users:   make([]floorUser, n),
		now:     fullEngine0,
		batches: make(chan floorBatch, 1),
		spares:  make(chan floorBatch, 2),
		states:  make(chan []floorState, 1),
		done:    make(chan error, 2),
	}
	for i, id := range f.ids {
		f.index[id] = uint32(i)
	}
	for i := range f.boards {
		f.boards[i] = leaderboard.New(leaderboard.Desc)
		f.groups[i] = leaderboard.New(leaderboard.Desc)
	}
	f.streak = streak.Definition{Key: "daily", Name: "Daily", Frequency: streak.Daily,
		Metrics: []streak.MetricRule{{Metric: "xp", Min: gamifytype.AmountFromInt(10)}}, Freezes: streak.Freezes{Initial: 1, Max: 3}}
	if err := f.streak.Validate(); err != nil {
		b.Fatal(err)
	}
	f.rules = points.Rules{System: points.System{Key: "coins", Name: "Coins"}, Buffers: &points.Buffers{}}
	for i, th := range []int64{1, 10, 100} {
		f.rules.Triggers = append(f.rules.Triggers, points.Trigger{Key: fmt.Sprint("t", i), System: "coins", Kind: points.KindMetric,
			Metric: "xp", Threshold: gamifytype.AmountFromInt(th), Points: gamifytype.AmountFromInt(th), Active: true})
	}
	f.rules.Boosts = []points.Boost{{Key: "weekend", System: "coins", Scope: points.Global,
		From: points.Date{Year: 2026, Month: 1, Day: 1}, Multiplier: gamifytype.AmountFromInt(2)}}
	if err := f.rules.Validate(); err != nil {
		b.Fatal(err)
	}
	var defs []achievement.Definition
	for i, th := range []int64{10, 100, 1000, 10000} {
		defs = append(defs, achievement.Definition{Key: fmt.Sprint("a", i), Name: "A", Kind: achievement.KindMetric,
			Status: achievement.Active, Metric: "xp", Threshold: gamifytype.AmountFromInt(th)})
	}
	defs = append(defs, achievement.Definition{Key: "all", Name: "All", Kind: achievement.KindComposite,
		Status: achievement.Active, Prerequisites: []string{"a0", "a1"}})
	var err error
	if f.cat, err = achievement.NewCatalog(defs); err != nil {
		b.Fatal(err)
	}

	dir := b.TempDir()
	log, err := cmdlog.Open(filepath.Join(dir, "log"), cmdlog.Options{})
	if err != nil {
		b.Fatal(err)
	}
	db, err := bolt.Open(filepath.Join(dir, "floor.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("state")); return err }); err != nil {
		b.Fatal(err)
	}
	f.spares <- floorBatch{}
	f.spares <- floorBatch{}
	go func() {
		var err error
		for bt := range f.batches {
			if err == nil {
				recs := make([][]byte, len(bt.ends))
				from := 0
				for i, end := range bt.ends {
					recs[i], from = bt.recs[from:end], end
				}
				if _, err = log.Append(recs...); err == nil {
					err = log.Sync()
				}
			}
			f.spares <- floorBatch{recs: bt.recs[:0], ends: bt.ends[:0]}
		}
		if cerr := log.Close(); err == nil {
			err = cerr
		}
		f.done <- err
	}()
	go func() {
		var err error
		for states := range f.states {
			if err == nil {
				err = db.Update(func(tx *bolt.Tx) error {
					bk := tx.Bucket([]byte("state"))
					for _, s := range states {
						if err := bk.Put(s.key[:], s.val); err != nil {
							return err
						}
					}
					return nil
				})
			}
		}
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		f.done <- err
	}()
	return f
}

// track is one event of 3 for ids[i % n], as BenchmarkTrackFull's.
func (f *bufferedFloor) track(i int64) error {
	id := f.ids[i%int64(len(f.ids))]
	uid := f.index[id]
	u := &f.users[uid]
	delta := gamifytype.AmountFromInt(3)
	f.recs = cmdlog.AppendCommand(f.recs, "track", f.now)
	f.recs = append(f.recs, byte(len(id)))
	f.recs = append(f.recs, id...)
	f.recs = append(f.recs, "\x02xp"...)
	f.recs = binary.AppendVarint(f.recs, delta.Micros())
	f.ends = append(f.ends, len(f.recs))

	total, ok := u.total.AddChecked(delta)
	if !ok {
		return fmt.Errorf("user %s: total overflows", id)
	}
	u.total = total
	st, _, err := streak.Apply(f.streak, u.st, streak.Activity{Metric: "xp", Delta: delta, At: f.now}, f.now)
	if err != nil {
		return err
	}
	pts, _, err := points.OnMetric(f.rules, u.pts, points.User{ID: id}, points.MetricChange{Metric: "xp", Delta: delta, At: f.now})
	if err != nil {
		return err
	}
	ach, _, err := achievement.OnMetric(f.cat, u.ach, achievement.MetricChange{Metric: "xp", Delta: delta, Total: u.total}, f.now)
	if err != nil {
		return err
	}
	u.st, u.pts, u.ach, u.dirty = st, pts, ach, true
	f.seq++
	score := u.total.Micros()
	for _, x := range f.boards {
		x.Update(uid, score, 0, f.seq, leaderboard.Competition)
	}
	f.groups[uid%3].Update(uid, score, 0, f.seq, leaderboard.Competition)

	f.n++
	if f.n%floorLogBatch == 0 {
		f.sealLog()
	}
	if f.n%floorCheckpoint == 0 {
		f.checkpoint()
	}
	return nil
}

func (f *bufferedFloor) sealLog() {
	if len(f.ends) == 0 {
		return
	}
	spare := <-f.spares
	f.batches <- floorBatch{recs: f.recs, ends: f.ends}
	f.recs, f.ends = spare.recs, spare.ends
}

// checkpoint encodes each changed user's state once and hands them to the
// checkpoint's goroutine.
func (f *bufferedFloor) checkpoint() {
	var states []floorState
	for uid := range f.users {
		u := &f.users[uid]
		if !u.dirty {
			continue
		}
		u.dirty = false
		s := floorState{val: make([]byte, 0, 256)}
		binary.BigEndian.PutUint64(s.key[:], uint64(uid))
		s.val = binary.AppendVarint(s.val, u.total.Micros())
		s.val, _ = u.st.AppendBinary(s.val)
		s.val, _ = u.pts.AppendBinary(s.val)
		s.val, _ = u.ach.AppendBinary(s.val)
		states = append(states, s)
	}
	f.states <- states
}

func (f *bufferedFloor) close(b *testing.B) {
	f.sealLog()
	f.checkpoint()
	close(f.batches)
	close(f.states)
	for range 2 {
		if err := <-f.done; err != nil {
			b.Fatal(err)
		}
	}
	// Every event of ids[0] pays a trigger, so a floor that skipped the
	// work would show here.
	if u := f.users[0]; u.pts.Available().IsZero() || len(u.ach.Completions()) == 0 && u.total.Floor() >= 10 {
		b.Fatalf("user 0 after %d events: %v points, %d achievements", f.n, u.pts.Available(), len(u.ach.Completions()))
	}
}
