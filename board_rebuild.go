package gamify

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gamifykit/gamify/leaderboard"
	"github.com/gamifykit/gamify/store"
)

// The rebuild of the leaderboard indexes reads every user's state record:
// at a million users on three boards, decoding the records and sorting the
// entries are most of Open. Both run on every core: one goroutine reads the
// records (the bbolt cursor and the checksums, a small share) and hands them
// out in batches of consecutive keys; each worker decodes the board entries
// of its batches into lists of its own, one per index; each list is sorted
// on its own, and the lists of an index are merged into its build. Workers
// only read the runtimes and the catalogue: the runs the lists belong to
// are created after the scan, so the outcome does not depend on which
// worker read which user.

// rebuildBoards rebuilds every board's indexes from stored scores: at Open
// and after a failed commit.
func (w *writer) rebuildBoards(tx *store.Tx) error {
	return w.rebuildBoardsOn(tx, runtime.GOMAXPROCS(0))
}

// rebuildBoardsOn is rebuildBoards decoding on workers goroutines.
func (w *writer) rebuildBoardsOn(tx *store.Tx, workers int) error {
	e := w.eng
	e.boardsMu.Lock()
	e.boards = map[uint32]*boardRuntime{}
	e.boardsMu.Unlock()
	for ref := uint32(1); ref <= w.cat.lastBoardRef; ref++ {
		b, ok := w.cat.boardByRef[ref]
		if !ok || !b.hasRuns() {
			continue
		}
		last, _, err := w.jobLastTx(tx, "leaderboard/"+b.Key)
		if err != nil {
			return err
		}
		rt := e.boardRT(ref)
		rt.finishedTo = last.UnixNano()
		rt.filling = tx.Get(store.Jobs, fillKey(b.Key)) != nil
	}
	if len(e.boards) == 0 {
		return nil
	}
	cols := make([]*boardCollector, max(workers, 1))
	for i := range cols {
		cols[i] = &boardCollector{w: w, parts: map[boardRun]map[string]*boardPart{}, last: make([]*boardPart, w.cat.lastBoardRef+1)}
	}
	err := scanState(tx, len(cols), func(worker int, k, v []byte) error {
		return cols[worker].collect(k, v)
	})
	if err != nil {
		return err
	}

	// The runs and indexes the lists belong to, then the sorts of every
	// list and the merge and build of every index, longest first.
	type build struct {
		board string
		order leaderboard.Order
		x     *leaderboard.Index
		parts [][]leaderboard.Entry
		n     int
	}
	type sortTask struct {
		order leaderboard.Order
		es    []leaderboard.Entry
	}
	byKey := map[boardKey]*build{}
	var builds []*build
	var sorts []sortTask
	for _, c := range cols {
		for rk, groups := range c.parts {
			b, rt := w.cat.boardByRef[rk.ref], e.boards[rk.ref]
			for g, p := range groups {
				if p.skip {
					continue
				}
				k := boardKey{rk, g}
				bd, ok := byKey[k]
				if !ok {
					run, ok := rt.runs[rk.run]
					if !ok {
						run = &runIndex{start: rk.run, end: p.end, groups: map[string]*leaderboard.Index{}}
						rt.runs[rk.run] = run
					}
					bd = &build{board: b.Key, order: b.order, x: run.group(g, b.order)}
					byKey[k] = bd
					builds = append(builds, bd)
				}
				bd.parts = append(bd.parts, p.es)
				bd.n += len(p.es)
				sorts = append(sorts, sortTask{b.order, p.es})
			}
		}
	}
	slices.SortStableFunc(sorts, func(a, b sortTask) int { return cmp.Compare(len(b.es), len(a.es)) })
	if err := parallel(len(sorts), func(i int) error { leaderboard.Sort(sorts[i].order, sorts[i].es); return nil }); err != nil {
		return err
	}
	sorts, cols = nil, nil // the lists are the builds' alone now, each dropped once merged
	slices.SortStableFunc(builds, func(a, b *build) int { return cmp.Compare(b.n, a.n) })
	return parallel(len(builds), func(i int) error {
		bd := builds[i]
		es := leaderboard.Merge(bd.order, bd.parts...)
		bd.parts = nil
		if err := bd.x.Build(es); err != nil {
			return fmt.Errorf("gamify: rebuild leaderboard %s: %w", bd.board, err)
		}
		return nil
	})
}

// boardRun names a run of a board; boardKey one index, a breakdown group of it.
type boardRun struct {
	ref uint32
	run int64
}

type boardKey struct {
	boardRun
	group string
}

// boardPart is the entries of one index that one worker decoded.
type boardPart struct {
	run, end int64 // the run's start and end (Unix ns; end 0 when open-ended)
	group    string
	skip     bool // the run is not indexed: its entries are dropped
	es       []leaderboard.Entry
}

// boardCollector gathers the board entries of the state records one worker
// reads. It reads the writer's catalogue and the boards' runtimes, which
// nothing changes during the scan, and writes only its own fields.
type boardCollector struct {
	w     *writer
	parts map[boardRun]map[string]*boardPart // by run, then group (looked up without building the string)
	last  []*boardPart                       // by board ref, the last part an entry went to: consecutive users mostly share it
}

func (c *boardCollector) collect(k, v []byte) error {
	uid := uint32(binary.BigEndian.Uint64(k))
	err := scanBoards(v, func(ub userBoard, group []byte) {
		if !ub.In || int(ub.Ref) >= len(c.last) {
			return
		}
		p := c.last[ub.Ref]
		if p == nil || p.run != ub.Run || p.group != string(group) {
			if p = c.part(ub, group); p == nil {
				return
			}
		}
		if p.skip {
			return
		}
		if len(p.es) == cap(p.es) {
			// Doubling: append grows a large slice by a quarter, copying
			// the entries of an index four times over on the way to 1M.
			p.es = slices.Grow(p.es, max(len(p.es), 256))
		}
		p.es = append(p.es, leaderboard.Entry{Score: ub.Score, Sub: ub.Sub, Reached: ub.Reached, User: uid})
	})
	if err != nil {
		return fmt.Errorf("uid %x: %w", k, err)
	}
	return nil
}

// part returns the part of the index an entry goes to, one marked skip
// when its run is finished (frozen in the store, except while a fill from
// history fills the runs that ended before the activation: board_fill.go),
// or nil when its board is gone. Skipped runs are remembered: the entries of
// a daily board's past runs linger in the records of the users idle since.
func (c *boardCollector) part(ub userBoard, group []byte) *boardPart {
	rk := boardRun{ub.Ref, ub.Run}
	groups := c.parts[rk]
	p, ok := groups[string(group)]
	if !ok {
		rt, ok := c.w.eng.boards[ub.Ref]
		if !ok {
			return nil
		}
		p = &boardPart{run: ub.Run, group: string(group)}
		_, end, ok := c.w.cat.boardByRef[ub.Ref].runAt(time.Unix(0, ub.Run))
		p.skip = !ok || (!end.IsZero() && end.UnixNano() <= rt.finishedTo && !rt.filling)
		if !end.IsZero() {
			p.end = end.UnixNano()
		}
		if groups == nil {
			groups = map[string]*boardPart{}
			c.parts[rk] = groups
		}
		groups[p.group] = p
	}
	c.last[ub.Ref] = p
	return p
}

// stateBatch is a run of consecutive state records; seq orders the batches.
type stateBatch struct {
	seq        int64
	keys, vals [][]byte
}

// scanBatch is how many records a batch holds: enough that handing one out
// costs little per record, few enough that the workers share the tail.
const scanBatch = 256

// scanState calls fn for every state record, from workers goroutines: each
// call of one worker runs after its previous one, and a worker gets the
// records of a batch in key order, but which worker reads a record is up to
// the scheduler. The keys and values stay valid until tx ends. The error is
// that of the first record in key order that failed (fn's or the store's),
// as a plain scan would report it.
func scanState(tx *store.Tx, workers int, fn func(worker int, k, v []byte) error) error {
	if workers <= 1 {
		return tx.Scan(store.State, nil, func(k, v []byte) error { return fn(0, k, v) })
	}
	work := make(chan *stateBatch, 2*workers)
	free := make(chan *stateBatch, 3*workers)
	// stopAt is the earliest batch a worker failed in: later batches are
	// skipped, earlier ones still run, so the first failure is found.
	var stopAt atomic.Int64
	stopAt.Store(math.MaxInt64)
	fails := make([]error, workers)
	failSeq := make([]int64, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			for b := range work {
				if fails[i] == nil && b.seq < stopAt.Load() {
					for j, k := range b.keys {
						if err := fn(i, k, b.vals[j]); err != nil {
							fails[i], failSeq[i] = err, b.seq
							for cur := stopAt.Load(); b.seq < cur && !stopAt.CompareAndSwap(cur, b.seq); cur = stopAt.Load() {
							}
							break
						}
					}
				}
				b.keys, b.vals = b.keys[:0], b.vals[:0]
				select {
				case free <- b:
				default:
				}
			}
		})
	}
	var cur *stateBatch
	var seq int64
	scanErr := tx.Scan(store.State, nil, func(k, v []byte) error {
		if cur == nil {
			if seq > stopAt.Load() {
				return store.ErrStop
			}
			select {
			case cur = <-free:
			default:
				cur = &stateBatch{keys: make([][]byte, 0, scanBatch), vals: make([][]byte, 0, scanBatch)}
			}
			cur.seq = seq
			seq++
		}
		cur.keys, cur.vals = append(cur.keys, k), append(cur.vals, v)
		if len(cur.keys) == scanBatch {
			work <- cur
			cur = nil
		}
		return nil
	})
	// The records before a damaged one still run: one of them may fail first.
	if cur != nil {
		work <- cur
	}
	close(work)
	wg.Wait()
	// Every record handed out comes before a damaged one the scan stopped at.
	first := -1
	for i, err := range fails {
		if err != nil && (first < 0 || failSeq[i] < failSeq[first]) {
			first = i
		}
	}
	if first >= 0 {
		return fails[first]
	}
	return scanErr
}

// parallel runs fn(0) … fn(n-1), as many at a time as there are cores, and
// joins their errors in index order.
func parallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range n {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			errs[i] = fn(i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
