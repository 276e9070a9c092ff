package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// modelKeys are the keys the model test writes: short, sharing prefixes,
// with 0xff bytes for the ends of prefix ranges.
var modelKeys = func() []string {
	alpha := []string{"a", "b", "c", "\xff"}
	var ks []string
	var add func(p string, n int)
	add = func(p string, n int) {
		for _, c := range alpha {
			ks = append(ks, p+c)
			if n > 1 {
				add(p+c, n-1)
			}
		}
	}
	add("", 3)
	slices.Sort(ks)
	return ks
}()

var (
	modelKeyspaces = []Keyspace{State, Ledger, Meta, Users, Outbox}
	modelPrefixes  = []string{"", "a", "b", "c", "\xff", "ab", "a\xff", "\xff\xff"}
	modelFroms     = []string{"", "b", "bc", "c\xff\xff", "\xff"}
)

// modelSeqs are the keys of the packed keyspaces (8-byte sequences): a few
// slots of runs at both ends of the range and between, so that runs fill,
// empty and sit next to each other.
var modelSeqs = func() []string {
	var ks []string
	for _, start := range []uint64{0, runLen, 2 * runLen, 1 << 32, math.MaxUint64 - 2*runLen + 1, math.MaxUint64 - runLen + 1} {
		for _, slot := range []uint64{0, 1, 5, runLen - 1} {
			ks = append(ks, string(binary.BigEndian.AppendUint64(nil, start+slot)))
		}
	}
	return ks
}()

var (
	seqPrefixes = []string{"", "\x00", "\x00\x00\x00\x00\x00\x00\x00", "\x00\x00\x00\x00\x00\x00\x00\x20", "\x00\x00\x00\x01", "\xff", "\xff\xff\xff\xff\xff\xff\xff"}
	seqFroms    = []string{"", "\x00\x00\x00\x00\x00\x00\x00\x05", "\x00\x00\x00\x00\x00\x00\x00\x21\x00", "\x01", "\xff\xff\xff\xff\xff\xff\xff\xe5"}
)

// appendKeyspaces are the keyspaces where the model appends: its keys
// there are 8-byte sequences, written mostly after the last one (a packed
// keyspace, and one that is not), and rewritten and deleted near the end.
var appendKeyspaces = []Keyspace{Awards, UserIDs}

// modelKeysOf returns the keys, prefixes and scan starts the model uses in ks.
func modelKeysOf(ks Keyspace) (keys, prefixes, froms []string) {
	if packed(ks) {
		return modelSeqs, seqPrefixes, seqFroms
	}
	return modelKeys, modelPrefixes, modelFroms
}

// errDiscarded is the error of a model update that PrepareAt built and
// Discard dropped (on the plain DB, that failed at the end).
var errDiscarded = errors.New("the update is discarded")

// modelUpdate runs update seed on db at pos: random puts, deletes, prefix
// deletes, appends, reads of its own writes (into the trace) and, for some
// seeds, a failure at the end or, on a Staged DB, PrepareAt then Install
// or Discard. The same seed makes the same calls on any DB.
// (Not Count: without Staged it does not see the update's own writes.)
func modelUpdate(db *DB, pos uint64, seed int64) (trace []string, err error) {
	mode := rand.New(rand.NewSource(seed)).Intn(10) // 0: discarded, 1: installed
	fn := func(tx *Tx) error {
		r := rand.New(rand.NewSource(seed))
		r.Intn(10) // mode
		for range 1 + r.Intn(10) {
			if r.Intn(3) == 0 {
				if err := modelAppend(tx, r, &trace); err != nil {
					return err
				}
				continue
			}
			ks := modelKeyspaces[r.Intn(len(modelKeyspaces))]
			keys, prefixes, _ := modelKeysOf(ks)
			k := []byte(keys[r.Intn(len(keys))])
			switch op := r.Intn(100); {
			case op < 45:
				v := make([]byte, r.Intn(12))
				r.Read(v)
				if err := tx.Put(ks, k, v); err != nil {
					return err
				}
			case op < 63:
				if err := tx.Delete(ks, k); err != nil {
					return err
				}
			case op < 67:
				if err := tx.DeletePrefix(ks, []byte(prefixes[1+r.Intn(len(prefixes)-1)])); err != nil {
					return err
				}
			case op < 85:
				trace = append(trace, fmt.Sprintf("get %s %q = %q", ks, k, tx.Get(ks, k)))
			case op < 92:
				p := []byte(prefixes[r.Intn(len(prefixes))])
				trace = append(trace, fmt.Sprintf("scan %s %q: %s", ks, p, scanAll(tx, ks, p, false)))
			default:
				p := []byte(prefixes[r.Intn(len(prefixes))])
				trace = append(trace, fmt.Sprintf("reverse %s %q: %s", ks, p, scanAll(tx, ks, p, true)))
			}
		}
		if r.Intn(100) < 15 {
			return errors.New("the update fails")
		}
		return nil
	}
	switch {
	case mode > 1:
		err = db.UpdateAt(pos, fn)
	case !db.staging:
		err = db.UpdateAt(pos, func(tx *Tx) error {
			if err := fn(tx); err != nil || mode == 1 {
				return err
			}
			return errDiscarded
		})
	default:
		var p *Prepared
		if p, err = db.PrepareAt(pos, fn); err == nil && mode == 0 {
			p.Discard()
			err = errDiscarded
		} else if err == nil {
			p.Install()
		}
	}
	return trace, err
}

// modelAppend is one operation of modelUpdate in an append keyspace: puts
// after its last key (most of them appends on a Staged DB), a put or a
// delete of one of its last keys, or reads.
func modelAppend(tx *Tx, r *rand.Rand, trace *[]string) error {
	ks := appendKeyspaces[r.Intn(len(appendKeyspaces))]
	var last []uint64 // the last keys, newest first
	_ = tx.ScanReverse(ks, nil, func(k, _ []byte) error {
		if last = append(last, binary.BigEndian.Uint64(k)); len(last) == 4 {
			return ErrStop
		}
		return nil
	})
	end := uint64(0)
	if len(last) > 0 {
		end = last[0]
	}
	// The highest key ever appended, kept in Meta: after a Trim (and
	// deletes) emptied the keyspace, appends go on above what it removed.
	endKey := []byte("model-end-" + string(ks))
	if v := tx.Get(Meta, endKey); len(v) == 8 {
		end = max(end, binary.BigEndian.Uint64(v))
	}
	defer func() { _ = tx.Put(Meta, endKey, binary.BigEndian.AppendUint64(nil, end+1)) }()
	near := func() []byte { // one of the last keys, or the next
		if n := r.Intn(len(last) + 1); n < len(last) {
			return seqKey(last[n])
		}
		return seqKey(end + 1)
	}
	val := func() []byte {
		v := make([]byte, r.Intn(12))
		r.Read(v)
		return v
	}
	switch op := r.Intn(100); {
	case op < 45:
		for range 1 + r.Intn(4) {
			end += 1 + uint64(r.Intn(3))
			if r.Intn(10) == 0 {
				end += runLen // into a later run
			}
			if err := tx.Put(ks, seqKey(end), val()); err != nil {
				return err
			}
		}
	case op < 65:
		return tx.Put(ks, near(), val())
	case op < 75:
		return tx.Delete(ks, near())
	case op < 82 && packed(ks):
		// Trim the first few entries, seeing their values.
		want := r.Intn(6)
		var b strings.Builder
		n, err := tx.Trim(ks, func(k, v []byte) bool {
			if want == 0 {
				return false
			}
			want--
			fmt.Fprintf(&b, "%q=%q ", k, v)
			return true
		})
		*trace = append(*trace, fmt.Sprintf("trim %s: %d %s", ks, n, b.String()))
		return err
	case op < 90:
		k := near()
		*trace = append(*trace, fmt.Sprintf("get %s %q = %q", ks, k, tx.Get(ks, k)))
	default:
		*trace = append(*trace, fmt.Sprintf("scan %s: %s", ks, scanAll(tx, ks, nil, r.Intn(2) == 0)))
	}
	return nil
}

func scanAll(tx *Tx, ks Keyspace, prefix []byte, reverse bool) string {
	var b strings.Builder
	f := tx.Scan
	if reverse {
		f = tx.ScanReverse
	}
	_ = f(ks, prefix, func(k, v []byte) error { fmt.Fprintf(&b, "%q=%q ", k, v); return nil })
	return b.String()
}

// view is everything a reader can ask of db, as text.
func view(t *testing.T, db *DB) []string {
	t.Helper()
	var out []string
	require.NoError(t, db.View(func(tx *Tx) error { out = viewTx(tx); return nil }))
	return out
}

// viewTx is view in tx.
func viewTx(tx *Tx) []string {
	var out []string
	for _, ks := range allKeyspaces {
		out = append(out, fmt.Sprintf("%s count %d", ks, tx.Count(ks)))
		if slices.Contains(appendKeyspaces, ks) {
			out = append(out, fmt.Sprintf("%s scan: %s", ks, scanAll(tx, ks, nil, false)))
			out = append(out, fmt.Sprintf("%s reverse: %s", ks, scanAll(tx, ks, nil, true)))
			var keys []uint64
			_ = tx.Scan(ks, nil, func(k, _ []byte) error { keys = append(keys, binary.BigEndian.Uint64(k)); return nil })
			end := uint64(0)
			if len(keys) > 0 {
				end = keys[len(keys)-1]
			}
			for _, n := range keys { // and the key after each, most of them absent
				out = append(out, fmt.Sprintf("%s get %d = %q, %q", ks, n, tx.Get(ks, seqKey(n)), tx.Get(ks, seqKey(n+1))))
			}
			for _, from := range []uint64{end / 3, end / 2, end - min(end, 3)} {
				var b strings.Builder
				_ = tx.ScanFrom(ks, seqKey(from), func(k, v []byte) error { fmt.Fprintf(&b, "%q=%q ", k, v); return nil })
				out = append(out, fmt.Sprintf("%s from %d: %s", ks, from, b.String()))
				p := seqKey(from)[:7]
				out = append(out, fmt.Sprintf("%s reverse %q: %s", ks, p, scanAll(tx, ks, p, true)))
			}
			continue
		}
		if !slices.Contains(modelKeyspaces, ks) { // empty but for Meta's records
			out = append(out, fmt.Sprintf("%s scan: %s", ks, scanAll(tx, ks, nil, false)))
			continue
		}
		keys, prefixes, froms := modelKeysOf(ks)
		for _, p := range prefixes {
			out = append(out, fmt.Sprintf("%s scan %q: %s", ks, p, scanAll(tx, ks, []byte(p), false)))
			out = append(out, fmt.Sprintf("%s reverse %q: %s", ks, p, scanAll(tx, ks, []byte(p), true)))
		}
		for _, k := range keys {
			out = append(out, fmt.Sprintf("%s get %q = %q", ks, k, tx.Get(ks, []byte(k))))
		}
		for _, from := range froms {
			var b strings.Builder
			n := 0
			_ = tx.ScanFrom(ks, []byte(from), func(k, v []byte) error {
				fmt.Fprintf(&b, "%q=%q ", k, v)
				if n++; n == 7 {
					return ErrStop
				}
				return nil
			})
			out = append(out, fmt.Sprintf("%s from %q: %s", ks, from, b.String()))
		}
	}
	for _, k := range []string{"digest", "position", "schema"} {
		out = append(out, fmt.Sprintf("meta get %q = %x", k, tx.Get(Meta, []byte(k))))
	}
	return out
}

// dump is db's Dump, in order.
func dump(t *testing.T, db *DB) []string {
	t.Helper()
	var out []string
	require.NoError(t, db.View(func(tx *Tx) error {
		tx.Dump(func(ks Keyspace, k, v []byte) { out = append(out, fmt.Sprintf("%s %x %x", ks, k, v)) })
		return nil
	}))
	return out
}

// requireSame fails unless the staged DB s reads as the plain DB p.
func requireSame(t *testing.T, s, p *DB, step string) {
	t.Helper()
	require.Equal(t, p.Position(), s.Position(), "%s: position", step)
	require.Equal(t, view(t, p), view(t, s), "%s: reads", step)
	require.Equal(t, dump(t, p), dump(t, s), "%s: dump", step)
	require.NoError(t, s.View(func(tx *Tx) error {
		tx.Verify(func(err error) bool { t.Errorf("%s: the file does not verify: %v", step, err); return false })
		return nil
	}))
}

// injector is the error BeforeCommit returns.
type injector struct {
	mu  sync.Mutex
	err error
}

func (f *injector) Store(err error) { f.mu.Lock(); f.err = err; f.mu.Unlock() }
func (f *injector) get() error      { f.mu.Lock(); defer f.mu.Unlock(); return f.err }

// The model test: random updates on a staged DB and on a plain one, with
// checkpoints (some failing before or after their commit) and reopens;
// after every step every read of every keyspace, and the dump byte for
// byte, are the same on both; a snapshot held across steps reads as it did
// when it was taken. GAMIFY_MODEL_SEEDS=n runs seeds 1 to n (4 by default).
func TestStagedModel(t *testing.T) {
	seeds := int64(4)
	if n, err := strconv.ParseInt(os.Getenv("GAMIFY_MODEL_SEEDS"), 10, 64); err == nil {
		seeds = n
	}
	for seed := int64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runStagedModel(t, seed, 250) })
	}
}

func runStagedModel(t *testing.T, seed int64, steps int) {
	dir := t.TempDir()
	sp, pp, bak := filepath.Join(dir, "staged.db"), filepath.Join(dir, "plain.db"), filepath.Join(dir, "plain.bak")
	var fault injector
	sopts := Options{LockTimeout: 1e9, NoSync: true, Staged: true, BeforeCommit: fault.get}
	popts := Options{LockTimeout: 1e9, NoSync: true}
	openDB := func(path string, o Options) *DB {
		db, err := Open(path, o)
		require.NoError(t, err)
		return db
	}
	s, p := openDB(sp, sopts), openDB(pp, popts)
	// snap is a snapshot of s held across steps, reading as snapView.
	var snap *Tx
	var snapView []string
	release := func() {
		if snap != nil {
			require.NoError(t, snap.tx.Rollback())
			snap = nil
		}
	}
	defer func() { release(); s.Close(); p.Close() }()
	// landed keeps the plain DB's state as of the last fold that reached the
	// staged file: what a reopen without a checkpoint must read.
	landed := func() {
		f, err := os.Create(bak)
		require.NoError(t, err)
		_, err = p.Backup(f)
		require.NoError(t, errors.Join(err, f.Close()))
	}
	landed()
	r := rand.New(rand.NewSource(seed))
	for i := range steps {
		step := fmt.Sprintf("step %d", i)
		switch op := r.Intn(100); {
		case op < 72:
			pos := s.Position() + uint64(r.Intn(3))
			if r.Intn(50) == 0 && s.Position() > 0 {
				pos = s.Position() - 1
			}
			us := r.Int63()
			st, serr := modelUpdate(s, pos, us)
			pt, perr := modelUpdate(p, pos, us)
			require.Equal(t, perr != nil, serr != nil, "%s: errors %v and %v", step, perr, serr)
			require.Equal(t, pt, st, "%s: reads inside the update", step)
			step += fmt.Sprintf(" (update at %d: %v)", pos, serr)
		case op < 84:
			want := s.Position()
			got, err := s.Checkpoint()
			require.NoError(t, err, step)
			require.Equal(t, want, got, step)
			require.Equal(t, want, s.CheckpointPosition(), step)
			n, b := s.Staged()
			require.Equal(t, 0, n, step)
			require.Zero(t, b, step)
			landed()
			step += " (checkpoint)"
		case op < 92:
			n, b := s.Staged()
			before := s.CheckpointPosition()
			fault.Store(errors.New("injected"))
			_, err := s.Checkpoint()
			fault.Store(nil)
			if n > 0 {
				require.ErrorContains(t, err, "injected", step)
			}
			gotN, gotB := s.Staged()
			require.Equal(t, n, gotN, "%s: a failed checkpoint keeps what it froze", step)
			require.Equal(t, b, gotB, step)
			require.Equal(t, before, s.CheckpointPosition(), step)
			step += " (failed checkpoint)"
		case op < 95:
			n, _ := s.Staged()
			fault.Store(FailAfterCommit(errors.New("fsync failed")))
			_, err := s.Checkpoint()
			fault.Store(nil)
			if n > 0 {
				require.ErrorContains(t, err, "outcome unknown", step)
				landed() // it did reach the file
			}
			step += " (checkpoint failing after its commit)"
		case op < 97:
			pos, err := s.Checkpoint()
			require.NoError(t, err, step)
			landed()
			release()
			require.NoError(t, s.Close())
			s = openDB(sp, sopts)
			require.Equal(t, pos, s.Position(), step)
			require.Equal(t, pos, s.CheckpointPosition(), step)
			step += " (reopen after a checkpoint)"
		default:
			// A crash: what was staged since the last fold that reached
			// the file is gone (the log replays it); the plain DB goes back
			// to its state of then.
			release()
			require.NoError(t, s.Close())
			require.NoError(t, p.Close())
			b, err := os.ReadFile(bak)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(pp, b, 0o600))
			s, p = openDB(sp, sopts), openDB(pp, popts)
			require.Equal(t, s.CheckpointPosition(), s.Position(), step)
			step += " (reopen without a checkpoint)"
		}
		requireSame(t, s, p, step)
		if snap != nil {
			require.Equal(t, snapView, viewTx(snap), "%s: the snapshot", step)
		}
		switch n := r.Intn(10); {
		case snap == nil && n == 0:
			var err error
			snap, err = s.snapshot(false)
			require.NoError(t, err)
			snapView = viewTx(snap)
			require.Equal(t, view(t, p), snapView, "%s: a new snapshot", step)
		case snap != nil && n < 2:
			release()
		}
	}
}

// A View sees one instant of the staged state: while updates move amounts
// between keys (keeping their sum) and checkpoints fold them, some of
// which fail, every View sums the same total, by Scan, ScanReverse and Get.
func TestStagedViewsAreSnapshots(t *testing.T) {
	const keys, each = 40, 100
	var failNext atomic.Bool
	db, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{LockTimeout: 1e9, NoSync: true, Staged: true,
		BeforeCommit: func() error {
			if failNext.Swap(false) {
				return errors.New("injected")
			}
			return nil
		}})
	require.NoError(t, err)
	defer db.Close()
	num := func(v []byte) int { n := 0; fmt.Sscan(string(v), &n); return n }
	require.NoError(t, db.UpdateAt(1, func(tx *Tx) error {
		for i := range keys {
			if err := tx.Put(State, fmt.Appendf(nil, "k%03d", i), fmt.Append(nil, each)); err != nil {
				return err
			}
		}
		return nil
	}))
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() { // the writer
		defer done.Store(true)
		r := rand.New(rand.NewSource(1))
		for i := range 3000 {
			err := db.UpdateAt(uint64(2+i), func(tx *Tx) error {
				var ks [][]byte
				_ = tx.Scan(State, nil, func(k, _ []byte) error { ks = append(ks, bytes.Clone(k)); return nil })
				a, b := ks[r.Intn(len(ks))], ks[r.Intn(len(ks))]
				if bytes.Equal(a, b) {
					return nil
				}
				va, vb := num(tx.Get(State, a)), num(tx.Get(State, b))
				if r.Intn(10) == 0 && len(ks) > 2 { // a's amount moves to a new key
					if err := tx.Delete(State, a); err != nil {
						return err
					}
					return tx.Put(State, fmt.Appendf(nil, "m%05d", i), fmt.Append(nil, va))
				}
				x := r.Intn(va + 1)
				if err := tx.Put(State, a, fmt.Append(nil, va-x)); err != nil {
					return err
				}
				return tx.Put(State, b, fmt.Append(nil, vb+x))
			})
			if err != nil {
				t.Error(err)
				return
			}
		}
	})
	var folds atomic.Int64
	wg.Go(func() { // the checkpointer
		for i := 0; !done.Load(); i++ {
			failNext.Store(i%3 == 2)
			_, err := db.Checkpoint()
			switch {
			case err == nil:
				folds.Add(1)
			case !strings.Contains(err.Error(), "injected"):
				t.Error(err)
				return
			}
		}
	})
	var views atomic.Int64
	for range 2 {
		wg.Go(func() {
			for !done.Load() {
				err := db.View(func(tx *Tx) error {
					sum, n := 0, 0
					var fwd, rev []string
					_ = tx.Scan(State, nil, func(k, v []byte) error {
						sum, n = sum+num(v), n+1
						fwd = append(fwd, string(k))
						return nil
					})
					_ = tx.ScanReverse(State, nil, func(k, _ []byte) error { rev = append(rev, string(k)); return nil })
					slices.Reverse(rev)
					got := 0
					for _, k := range fwd {
						got += num(tx.Get(State, []byte(k)))
					}
					switch {
					case sum != keys*each || got != sum:
						return fmt.Errorf("a view sums %d by Scan and %d by Get, want %d", sum, got, keys*each)
					case !slices.Equal(fwd, rev):
						return fmt.Errorf("Scan and ScanReverse disagree: %d and %d keys", len(fwd), len(rev))
					case tx.Count(State) != n:
						return fmt.Errorf("Count %d, Scan %d keys", tx.Count(State), n)
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				views.Add(1)
			}
		})
	}
	wg.Wait()
	require.Positive(t, views.Load())
	require.Positive(t, folds.Load())
	failNext.Store(false)
	pos, err := db.Checkpoint()
	require.NoError(t, err)
	require.EqualValues(t, 3001, pos)
}

func TestStagedReopenAfterCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	opts := Options{LockTimeout: 1e9, Staged: true}
	db, err := Open(path, opts)
	require.NoError(t, err)
	require.Zero(t, db.CheckpointPosition(), "a new file holds no position")
	require.NoError(t, db.UpdateAt(4, func(tx *Tx) error { return tx.Put(State, []byte("a"), []byte("1")) }))
	require.NoError(t, db.UpdateAt(9, func(tx *Tx) error { return tx.Put(Runs, []byte("b"), []byte("2")) }))
	require.EqualValues(t, 9, db.Position())
	require.Zero(t, db.CheckpointPosition())
	n, b := db.Staged()
	require.Equal(t, 3, n, "two records and the position record") // position rewritten in place
	require.Positive(t, b)
	pos, err := db.Checkpoint()
	require.NoError(t, err)
	require.EqualValues(t, 9, pos)
	before := dump(t, db)
	require.NoError(t, db.Close())

	db, err = Open(path, opts)
	require.NoError(t, err)
	defer db.Close()
	require.EqualValues(t, 9, db.Position())
	require.EqualValues(t, 9, db.CheckpointPosition())
	require.Equal(t, before, dump(t, db))
	n, _ = db.Staged()
	require.Zero(t, n)
}

// The tag an update sets goes into the position record with its position:
// the file holds the last folded update's, read back at Open; an update
// without a tag writes a record without one.
func TestPositionTag(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	opts := Options{LockTimeout: 1e9, Staged: true}
	db, err := Open(path, opts)
	require.NoError(t, err)
	_, tagged := db.FileTag()
	require.False(t, tagged, "a new file")
	require.NoError(t, db.UpdateAt(4, func(tx *Tx) error { tx.TagPosition(40); return tx.Put(State, []byte("a"), []byte("1")) }))
	require.NoError(t, db.UpdateAt(9, func(tx *Tx) error { tx.TagPosition(90); return tx.Put(State, []byte("b"), []byte("2")) }))
	_, err = db.Checkpoint()
	require.NoError(t, err)
	require.NoError(t, db.Close())
	db, err = Open(path, opts)
	require.NoError(t, err)
	tag, tagged := db.FileTag()
	require.True(t, tagged)
	require.EqualValues(t, 90, tag, "the last update's")
	require.EqualValues(t, 9, db.CheckpointPosition())
	require.NoError(t, db.UpdateAt(12, func(tx *Tx) error { return tx.Put(State, []byte("c"), []byte("3")) }))
	_, err = db.Checkpoint()
	require.NoError(t, err)
	require.NoError(t, db.Close())
	db, err = Open(path, opts)
	require.NoError(t, err)
	defer db.Close()
	_, tagged = db.FileTag()
	require.False(t, tagged, "an untagged update leaves no stale tag")
	require.EqualValues(t, 12, db.CheckpointPosition())
}

func TestStagedReopenWithoutCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	opts := Options{LockTimeout: 1e9, Staged: true}
	db, err := Open(path, opts)
	require.NoError(t, err)
	require.NoError(t, db.UpdateAt(3, func(tx *Tx) error { return tx.Put(State, []byte("a"), []byte("1")) }))
	_, err = db.Checkpoint()
	require.NoError(t, err)
	require.NoError(t, db.UpdateAt(7, func(tx *Tx) error {
		return errors.Join(tx.Delete(State, []byte("a")), tx.Put(State, []byte("b"), []byte("2")))
	}))
	require.NoError(t, db.View(func(tx *Tx) error {
		require.Nil(t, tx.Get(State, []byte("a")))
		require.Equal(t, "2", string(tx.Get(State, []byte("b"))))
		return nil
	}))
	require.NoError(t, db.Close())

	db, err = Open(path, opts)
	require.NoError(t, err)
	defer db.Close()
	require.EqualValues(t, 3, db.Position(), "the last folded position")
	require.EqualValues(t, 3, db.CheckpointPosition())
	require.NoError(t, db.View(func(tx *Tx) error {
		require.Equal(t, "1", string(tx.Get(State, []byte("a"))), "the staged delete is gone")
		require.Nil(t, tx.Get(State, []byte("b")), "the staged put is gone")
		return nil
	}))
}

// A failed checkpoint keeps its writes visible, the next one folds them
// with the newer ones (a later write of a key wins), and a reopen between
// the two has neither.
func TestCheckpointFailsThenSucceeds(t *testing.T) {
	for _, late := range []bool{false, true} {
		t.Run(fmt.Sprintf("after commit %v", late), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.db")
			var fault injector
			opts := Options{LockTimeout: 1e9, Staged: true, BeforeCommit: fault.get}
			db, err := Open(path, opts)
			require.NoError(t, err)
			defer func() { db.Close() }()
			require.NoError(t, db.UpdateAt(1, func(tx *Tx) error {
				return errors.Join(tx.Put(State, []byte("a"), []byte("1")), tx.Put(State, []byte("c"), []byte("3")))
			}))
			injected := errors.New("injected")
			if late {
				fault.Store(FailAfterCommit(injected))
			} else {
				fault.Store(injected)
			}
			_, err = db.Checkpoint()
			require.ErrorIs(t, err, injected)
			fault.Store(nil)
			require.Zero(t, db.CheckpointPosition())
			n, _ := db.Staged()
			require.Equal(t, 3, n, "the failed checkpoint's records stay staged")
			require.NoError(t, db.UpdateAt(2, func(tx *Tx) error {
				require.Equal(t, "1", string(tx.Get(State, []byte("a"))), "still visible")
				return errors.Join(tx.Put(State, []byte("a"), []byte("2")), tx.Delete(State, []byte("c")), tx.Put(State, []byte("b"), []byte("x")))
			}))
			pos, err := db.Checkpoint()
			require.NoError(t, err)
			require.EqualValues(t, 2, pos)
			n, _ = db.Staged()
			require.Zero(t, n)
			want := map[string]string{"a": "2", "b": "x"}
			read := func() map[string]string {
				got := map[string]string{}
				require.NoError(t, db.View(func(tx *Tx) error {
					return tx.Scan(State, nil, func(k, v []byte) error { got[string(k)] = string(v); return nil })
				}))
				return got
			}
			require.Equal(t, want, read())
			require.NoError(t, db.Close())
			db, err = Open(path, opts)
			require.NoError(t, err)
			require.Equal(t, want, read(), "the file holds both folds, the later write winning")
			require.EqualValues(t, 2, db.Position())
		})
	}
	t.Run("reopen after the failure", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s.db")
		opts := Options{LockTimeout: 1e9, Staged: true, BeforeCommit: func() error { return errors.New("injected") }}
		db, err := Open(path, opts)
		require.NoError(t, err)
		require.NoError(t, db.UpdateAt(1, func(tx *Tx) error { return tx.Put(State, []byte("a"), []byte("1")) }))
		_, err = db.Checkpoint()
		require.Error(t, err)
		require.NoError(t, db.Close())
		db, err = Open(path, Options{LockTimeout: 1e9, Staged: true})
		require.NoError(t, err)
		defer db.Close()
		require.Zero(t, db.Position())
		require.NoError(t, db.View(func(tx *Tx) error {
			require.Nil(t, tx.Get(State, []byte("a")))
			return nil
		}))
	})
}

func TestUpdateAtPositions(t *testing.T) {
	for _, staged := range []bool{false, true} {
		t.Run(fmt.Sprintf("staged %v", staged), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.db")
			opts := Options{LockTimeout: 1e9, Staged: staged}
			db, err := Open(path, opts)
			require.NoError(t, err)
			defer func() { db.Close() }()
			put := func(tx *Tx) error { return tx.Put(State, []byte("a"), []byte("1")) }
			require.NoError(t, db.UpdateAt(5, put))
			require.EqualValues(t, 5, db.Position())
			require.ErrorContains(t, db.UpdateAt(4, put), "before", "positions do not go back")
			require.NoError(t, db.Update(put), "Update keeps the position")
			require.EqualValues(t, 5, db.Position())
			require.Error(t, db.UpdateAt(6, func(*Tx) error { return errors.New("no") }))
			require.EqualValues(t, 5, db.Position(), "a failed update moves no position")
			for _, k := range []string{"position", "digest"} {
				require.NoError(t, db.UpdateAt(6, func(tx *Tx) error {
					require.ErrorContains(t, tx.Put(Meta, []byte(k), []byte("x")), "the store's")
					require.ErrorContains(t, tx.Delete(Meta, []byte(k)), "the store's")
					require.NoError(t, tx.DeletePrefix(Meta, []byte(k[:1])))
					return nil
				}))
				require.NoError(t, db.View(func(tx *Tx) error {
					require.NotNil(t, tx.Get(Meta, []byte(k)), "DeletePrefix leaves the store's records")
					return nil
				}))
			}
			_, err = db.Checkpoint()
			require.NoError(t, err)
			require.NoError(t, db.Close())
			db, err = Open(path, opts)
			require.NoError(t, err)
			require.EqualValues(t, 6, db.Position())
			require.EqualValues(t, 6, db.CheckpointPosition())
		})
	}
}

// A staged write bbolt would refuse fails at once: at a Checkpoint it
// would fail every fold for good.
func TestStagedWritesAreCheckedAtOnce(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{LockTimeout: 1e9, Staged: true})
	require.NoError(t, err)
	defer db.Close()
	for name, c := range map[string]struct {
		key, val []byte
		want     error
	}{
		"empty key":       {nil, []byte("v"), berrors.ErrKeyRequired},
		"key too large":   {make([]byte, MaxKeySize+1), []byte("v"), berrors.ErrKeyTooLarge},
		"value too large": {[]byte("k"), make([]byte, MaxValueSize+1), berrors.ErrValueTooLarge},
	} {
		err := db.Update(func(tx *Tx) error { return tx.Put(State, c.key, c.val) })
		require.ErrorIs(t, err, c.want, name)
	}
	n, _ := db.Staged()
	require.Zero(t, n)
	require.Error(t, db.View(func(tx *Tx) error { return tx.Put(State, []byte("k"), nil) }), "a View does not write")
	_, err = db.Checkpoint()
	require.NoError(t, err)
}

// Backup of a staged DB holds what was staged before it.
func TestStagedBackup(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(filepath.Join(dir, "s.db"), Options{LockTimeout: 1e9, Staged: true})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.UpdateAt(2, func(tx *Tx) error { return tx.Put(Users, []byte("u"), []byte("v")) }))
	f, err := os.Create(filepath.Join(dir, "b.db"))
	require.NoError(t, err)
	_, err = db.Backup(f)
	require.NoError(t, errors.Join(err, f.Close()))
	require.EqualValues(t, 2, db.CheckpointPosition())
	b, err := Open(filepath.Join(dir, "b.db"), Options{LockTimeout: 1e9})
	require.NoError(t, err)
	defer b.Close()
	require.EqualValues(t, 2, b.Position())
	require.NoError(t, b.View(func(tx *Tx) error {
		require.Equal(t, "v", string(tx.Get(Users, []byte("u"))))
		return nil
	}))
}

// A View held open blocks no update and no Checkpoint, even one that grows
// the file well past its first memory map, and keeps its snapshot.
func TestLongViewBlocksNoWriter(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "s.db"), Options{LockTimeout: 1e9, NoSync: true, Staged: true})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.UpdateAt(1, func(tx *Tx) error { return tx.Put(State, []byte("k"), []byte("old")) }))
	_, err = db.Checkpoint()
	require.NoError(t, err)
	inView, release := make(chan struct{}), make(chan struct{})
	viewed := make(chan error, 1)
	go func() {
		viewed <- db.View(func(tx *Tx) error {
			close(inView)
			<-release
			if v := string(tx.Get(State, []byte("k"))); v != "old" {
				return fmt.Errorf("the view reads %q after the writes, want its snapshot's %q", v, "old")
			}
			if n := tx.Count(State); n != 1 {
				return fmt.Errorf("the view counts %d records, want 1", n)
			}
			return nil
		})
	}()
	<-inView
	wrote := make(chan error, 1)
	go func() {
		val := make([]byte, 200)
		var err error
		for i := 0; i < 200 && err == nil; i++ { // 20k records, 4 MB: the file grows
			err = db.UpdateAt(uint64(2+i), func(tx *Tx) error {
				for j := range 100 {
					if err := tx.Put(State, fmt.Appendf(nil, "u%03d%03d", i, j), val); err != nil {
						return err
					}
				}
				return tx.Put(State, []byte("k"), []byte("new"))
			})
			if err == nil && i%50 == 49 {
				_, err = db.Checkpoint()
			}
		}
		wrote <- err
	}()
	timeout := make(chan struct{})
	timer := time.AfterFunc(time.Minute, func() { close(timeout) }) // a failure, not an ordering
	defer timer.Stop()
	select {
	case err := <-wrote:
		require.NoError(t, err)
	case <-timeout:
		close(release) // else Close would wait for the View
		t.Fatal("updates and checkpoints waited for the open View")
	}
	size, err := db.Size()
	require.NoError(t, err)
	require.Greater(t, size, int64(4<<20))
	close(release)
	require.NoError(t, <-viewed)
}

// requireDigestsExact fails unless the digests record db's transactions
// read is the digests of the records they read, keyspace by keyspace.
func requireDigestsExact(t *testing.T, db *DB, step string) {
	t.Helper()
	require.NoError(t, db.View(func(tx *Tx) error {
		var want digests
		tx.Dump(func(ks Keyspace, k, v []byte) {
			if ks != Meta || string(k) != string(digestKey) {
				want[ksIndex[ks]].add(v)
			}
		})
		p := tx.Get(Meta, digestKey)
		require.Len(t, p, 16*numKeyspaces, step)
		for i, ks := range allKeyspaces {
			got := digest{binary.BigEndian.Uint64(p[16*i:]), binary.BigEndian.Uint64(p[16*i+8:])}
			require.Equal(t, want[i], got, "%s: the digest of %s", step, ks)
		}
		return nil
	}))
}

// A put above every key (an append) skips the lookup of the value it
// replaces; the digests stay exact for appends and for puts and deletes of
// keys in the file, in a frozen layer (after a failed Checkpoint) and in
// the active one, and for a key a failed update appended.
func TestAppendsKeepDigestsExact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	var fault injector
	opts := Options{LockTimeout: 1e9, NoSync: true, Staged: true, BeforeCommit: fault.get}
	db, err := Open(path, opts)
	require.NoError(t, err)
	defer func() { db.Close() }()
	key := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
	pos := uint64(0)
	update := func(step string, ops ...func(tx *Tx) error) {
		t.Helper()
		pos++
		require.NoError(t, db.UpdateAt(pos, func(tx *Tx) error {
			for _, op := range ops {
				if err := op(tx); err != nil {
					return err
				}
			}
			return nil
		}), step)
		requireDigestsExact(t, db, step)
	}
	put := func(n uint64, v string) func(*Tx) error {
		return func(tx *Tx) error { return tx.Put(Ledger, key(n), []byte(v)) }
	}
	del := func(n uint64) func(*Tx) error { return func(tx *Tx) error { return tx.Delete(Ledger, key(n)) } }
	get := func(n uint64) (v string) {
		require.NoError(t, db.View(func(tx *Tx) error { v = string(tx.Get(Ledger, key(n))); return nil }))
		return v
	}

	var ops []func(*Tx) error
	for n := uint64(1); n <= 10; n++ {
		ops = append(ops, put(n, "file"))
	}
	update("appends to an empty keyspace", ops...)
	_, err = db.Checkpoint()
	require.NoError(t, err)
	require.NoError(t, db.Close())
	db, err = Open(path, opts) // the bound comes from the file
	require.NoError(t, err)

	update("an append, a put and a delete of keys in the file", put(11, "a"), put(5, "a"), del(3), put(10, "a"))
	require.Empty(t, get(3))
	require.Equal(t, "a", get(5))
	fault.Store(errors.New("injected"))
	_, err = db.Checkpoint()
	require.ErrorContains(t, err, "injected")
	fault.Store(nil)
	requireDigestsExact(t, db, "after a failed checkpoint")

	update("puts and deletes of keys in the frozen layer", put(11, "b"), put(5, "b"), del(10), put(12, "b"))
	update("a put of a key staged in the update itself", put(13, "c"), put(13, "d"), put(12, "c"), del(12))
	pos++
	require.Error(t, db.UpdateAt(pos, func(tx *Tx) error {
		return errors.Join(put(20, "gone")(tx), put(19, "gone")(tx), errors.New("the update fails"))
	}))
	require.Empty(t, get(20))
	update("puts of keys a failed update appended", put(20, "e"), put(19, "e"), put(21, "e"))
	update("a delete and a put back of a key above the file", del(11), put(11, "f"), del(21))
	want := map[uint64]string{1: "file", 2: "file", 4: "file", 5: "b", 6: "file", 7: "file", 8: "file", 9: "file",
		11: "f", 13: "d", 19: "e", 20: "e"}
	for n := uint64(1); n <= 21; n++ {
		require.Equal(t, want[n], get(n), "key %d", n)
	}

	_, err = db.Checkpoint()
	require.NoError(t, err)
	requireDigestsExact(t, db, "after the checkpoint")
	require.NoError(t, db.Close())
	db, err = Open(path, opts) // compares the digests with the page walk
	require.NoError(t, err)
	requireDigestsExact(t, db, "reopened")
	for n := uint64(1); n <= 21; n++ {
		require.Equal(t, want[n], get(n), "key %d after the reopen", n)
	}
	update("an append after the reopen, a put of a key below the bound", put(22, "g"), put(3, "g"))
	require.NoError(t, db.View(func(tx *Tx) error {
		tx.Verify(func(err error) bool { t.Errorf("the file does not verify: %v", err); return false })
		return nil
	}))
}

// A Checkpoint that appends to a keyspace (its keys above the file's) fills
// the keyspace's new pages (bbolt's default split leaves them half empty);
// one that inserts among the file's keys keeps bbolt's even split, so that
// the next inserts into the same page do not split it again.
func TestCheckpointFillsAppendedPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	opts := Options{LockTimeout: 1e9, NoSync: true, Staged: true}
	db, err := Open(path, opts)
	require.NoError(t, err)
	defer func() { db.Close() }()
	key := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
	val := make([]byte, 40)
	leaves := func(ks Keyspace) (fill float64, pages int) {
		require.NoError(t, db.bolt.View(func(tx *bolt.Tx) error {
			st := tx.Bucket([]byte(ks)).Stats()
			fill, pages = float64(st.LeafInuse)/float64(st.LeafAlloc), st.LeafPageN
			return nil
		}))
		return fill, pages
	}
	checkpoint := func(ks Keyspace, keys ...uint64) {
		t.Helper()
		require.NoError(t, db.Update(func(tx *Tx) error {
			for _, n := range keys {
				if err := tx.Put(ks, key(n), val); err != nil {
					return err
				}
			}
			return nil
		}))
		_, err := db.Checkpoint()
		require.NoError(t, err)
	}
	for round := range 3 {
		var keys []uint64
		for i := range 5000 {
			keys = append(keys, uint64(round*5000+i)*16)
		}
		for _, ks := range []Keyspace{Runs, Ledger} { // records, and a packed keyspace's runs
			checkpoint(ks, keys...)
			fill, _ := leaves(ks)
			require.Greater(t, fill, 0.95, "round %d: the appended pages of %s", round, ks)
		}
	}
	checkpoint(Runs, 1000*16+1) // into a full page of the file
	_, split := leaves(Runs)
	checkpoint(Runs, 1000*16+2, 1000*16+3, 1000*16+4) // into the same page
	_, pages := leaves(Runs)
	require.Equal(t, split, pages, "the next inserts split a page again")
	require.NoError(t, db.Close())
	db, err = Open(path, opts) // compares the digests with the page walk
	require.NoError(t, err)
	require.NoError(t, db.View(func(tx *Tx) error {
		require.Equal(t, 15004, tx.Count(Runs))
		require.Equal(t, 15000, tx.Count(Ledger))
		tx.Verify(func(err error) bool { t.Errorf("the file does not verify: %v", err); return false })
		return nil
	}))
}

// An append goes to its layer's tail, a later write of the key in the same
// layer to the tree: reads, scans both ways, counts, Staged and the file a
// Checkpoint folds show the tree's value, once, and a snapshot taken before
// shows neither the later write nor later appends.
func TestAppendsShadowedInTheirLayer(t *testing.T) {
	for _, ks := range []Keyspace{Awards, UserIDs} { // packed, and not
		t.Run(string(ks), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.db")
			var fault injector
			opts := Options{LockTimeout: 1e9, NoSync: true, Staged: true, BeforeCommit: fault.get}
			db, err := Open(path, opts)
			require.NoError(t, err)
			defer func() { db.Close() }()
			key := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
			// state is what tx reads of ks, as text.
			state := func(tx *Tx) string {
				var b strings.Builder
				fmt.Fprintf(&b, "count %d; scan %s; reverse %s; gets", tx.Count(ks), scanAll(tx, ks, nil, false), scanAll(tx, ks, nil, true))
				for n := uint64(1); n <= 9; n++ {
					fmt.Fprintf(&b, " %q", tx.Get(ks, key(n)))
				}
				return b.String()
			}
			read := func() (s string) {
				require.NoError(t, db.View(func(tx *Tx) error { s = state(tx); return nil }))
				return s
			}
			// want is what a reader must see of vals (key n+1: vals[n], "" for none).
			want := func(vals ...string) string {
				var b strings.Builder
				var keys []int
				for n, v := range vals {
					if v != "" {
						keys = append(keys, n)
					}
				}
				fmt.Fprintf(&b, "count %d; scan ", len(keys))
				for _, n := range keys {
					fmt.Fprintf(&b, "%q=%q ", key(uint64(n+1)), vals[n])
				}
				b.WriteString("; reverse ")
				for _, n := range slices.Backward(keys) {
					fmt.Fprintf(&b, "%q=%q ", key(uint64(n+1)), vals[n])
				}
				b.WriteString("; gets")
				for n := range 9 {
					v := ""
					if n < len(vals) {
						v = vals[n]
					}
					if v == "" {
						fmt.Fprintf(&b, " %q", []byte(nil))
					} else {
						fmt.Fprintf(&b, " %q", v)
					}
				}
				return b.String()
			}
			pos := uint64(0)
			update := func(fn func(tx *Tx) error) error {
				pos++
				return db.UpdateAt(pos, fn)
			}
			// (No require inside an update: it would end the test holding
			// the writer's lock.)
			put := func(tx *Tx, n uint64, v string) error { return tx.Put(ks, key(n), []byte(v)) }

			var inside string
			require.NoError(t, update(func(tx *Tx) error {
				for n := uint64(1); n <= 5; n++ {
					if err := put(tx, n, "old"); err != nil {
						return err
					}
				}
				err := errors.Join(put(tx, 3, "new"), tx.Delete(ks, key(4))) // in the same update
				inside = state(tx)
				return err
			}))
			require.Equal(t, want("old", "old", "new", "", "old"), inside, "the update's own reads")
			require.Equal(t, want("old", "old", "new", "", "old"), read())
			snap, err := db.snapshot(false)
			require.NoError(t, err)
			defer func() { _ = snap.tx.Rollback() }()
			require.NoError(t, update(func(tx *Tx) error {
				return errors.Join(put(tx, 2, "new"), put(tx, 6, "old")) // a later update, the same layer
			}))
			require.ErrorContains(t, update(func(tx *Tx) error {
				return errors.Join(put(tx, 7, "gone"), put(tx, 1, "gone"), errors.New("the update fails"))
			}), "the update fails")
			now := want("old", "new", "new", "", "old", "old")
			require.Equal(t, now, read())
			require.Equal(t, want("old", "old", "new", "", "old"), state(snap), "the snapshot")
			requireDigestsExact(t, db, "in one layer")

			// Each key once: six in ks (the delete a tombstone), and the
			// position record.
			n, b := db.Staged()
			require.Equal(t, 6+1, n)
			require.Equal(t, int64(6*8+5*(3+sumSize)+len(positionKey)+8+sumSize), b)

			// Frozen by a failed Checkpoint, shadowed by the next layer.
			fault.Store(errors.New("injected"))
			_, err = db.Checkpoint()
			require.ErrorContains(t, err, "injected")
			fault.Store(nil)
			require.Equal(t, now, read())
			require.NoError(t, update(func(tx *Tx) error {
				return errors.Join(put(tx, 8, "old"), put(tx, 8, "new"), put(tx, 6, "new"), tx.Delete(ks, key(5)))
			}))
			now = want("old", "new", "new", "", "", "new", "", "new")
			require.Equal(t, now, read())
			requireDigestsExact(t, db, "over a frozen layer")
			require.Equal(t, want("old", "old", "new", "", "old"), state(snap), "the snapshot")
			require.NoError(t, snap.tx.Rollback())

			_, err = db.Checkpoint()
			require.NoError(t, err)
			n, b = db.Staged()
			require.Zero(t, n)
			require.Zero(t, b)
			require.Equal(t, now, read(), "the file")
			require.NoError(t, db.Close())
			db, err = Open(path, opts) // compares the digests with the page walk
			require.NoError(t, err)
			require.Equal(t, now, read(), "the file, reopened")
			requireDigestsExact(t, db, "reopened")
			var recs int
			require.NoError(t, db.View(func(tx *Tx) error {
				tx.Verify(func(err error) bool { t.Errorf("the file does not verify: %v", err); return false })
				recs = tx.bucket(ks).Stats().KeyN
				return nil
			}))
			if !packed(ks) {
				require.Equal(t, 5, recs, "the file's records")
			}
		})
	}
}
