package leaderboard

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"unsafe"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

// intTree is a Tree over plain ints whose tie groups are the decades
// (0-9, 10-19, ...), to show the tree is generic and to test Groups alone.
func intTree(leafMax, innerMax int32) *Tree[int] {
	t := NewTree(Config[int]{
		Compare: cmp.Compare[int],
		Same:    func(a, b int) bool { return a/10 == b/10 },
		Floor:   func(a int) int { return a / 10 * 10 }, // values are not negative
	})
	t.setLimits(leafMax, innerMax)
	return t
}

// checkAgainst compares every query of t with the sorted slice want.
func checkAgainst(t *testing.T, tr *Tree[int], want []int, msg string) {
	t.Helper()
	require.NoError(t, tr.check(), msg)
	require.Equal(t, len(want), tr.Len(), "%s: Len", msg)
	groups, first := 0, 0
	for k, v := range want {
		if k == 0 || want[k-1]/10 != v/10 {
			first = k
		}
		before := groups // groups started in [0, k), x's own included unless it starts one
		if first < k {
			before--
		}
		wantW := Where{Pos: k, First: first, Groups: before}
		for _, d := range []Detail{PosOnly, WithFirst, WithGroups} {
			w, found := tr.Where(v, d)
			if d < WithGroups {
				wantW.Groups = -1
			}
			if d < WithFirst {
				wantW.First = -1
			}
			if !found || w != wantW {
				require.Failf(t, "Where", "%s: Where(%d, %d) = %+v, %v, want %+v, true", msg, v, d, w, found, wantW)
			}
			wantW = Where{Pos: k, First: first, Groups: before}
		}
		if got, ok := tr.Select(k); !ok || got != v {
			require.Failf(t, "Select", "%s: Select(%d) = %v, %v, want %v, true", msg, k, got, ok, v)
		}
		if pos, found := tr.Rank(v); !found || pos != k {
			require.Failf(t, "Rank", "%s: Rank(%d) = %d, %v, want %d, true", msg, v, pos, found, k)
		}
		pos, found := tr.Rank(v + 1)
		if wantPos, wantFound := slices.BinarySearch(want, v+1); pos != wantPos || found != wantFound {
			require.Failf(t, "Rank", "%s: Rank(%d) = %d, %v, want %d, %v", msg, v+1, pos, found, wantPos, wantFound)
		}
		if got := tr.Groups(k); got != groups {
			require.Failf(t, "Groups", "%s: Groups(%d) = %d, want %d", msg, k, got, groups)
		}
		if k == 0 || want[k-1]/10 != v/10 {
			groups++
		}
	}
	if w, found := tr.Where(-5, WithGroups); found || w.Pos != 0 {
		require.Failf(t, "Where", "%s: Where(-5) = %+v, %v, want position 0, false", msg, w, found)
	}
	require.Equal(t, groups, tr.Groups(len(want)), "%s: Groups(Len)", msg)
	_, ok := tr.Select(len(want))
	require.False(t, ok, "%s: Select(Len) ok", msg)
}

func TestTreeGrowShrink(t *testing.T) {
	orders := map[string]func(vs []int, rng *rand.Rand){
		"front-first":  func(vs []int, _ *rand.Rand) { slices.Sort(vs) },
		"back-first":   func(vs []int, _ *rand.Rand) { slices.Sort(vs); slices.Reverse(vs) },
		"random-order": func(vs []int, rng *rand.Rand) { rng.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] }) },
	}
	for _, lim := range [][2]int32{{3, 3}, {4, 3}, {7, 5}, {leafCap, innerCap - 1}} {
		n := 600
		if lim[0] == leafCap {
			n = 6000
		}
		for name, order := range orders {
			t.Run(fmt.Sprintf("leaf=%d/inner=%d/%s", lim[0], lim[1], name), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(n), uint64(lim[0])))
				tr := intTree(lim[0], lim[1])
				vs := rng.Perm(n * 3)[:n] // gaps between values, so absent keys get ranked too
				var want []int
				for i, v := range vs {
					if !tr.Insert(v) || tr.Insert(v) {
						require.Failf(t, "Insert", "Insert(%d) then again: want true, then false", v)
					}
					want = append(want, v)
					if i%(n/8) == 0 {
						slices.Sort(want)
						checkAgainst(t, tr, want, fmt.Sprintf("after %d inserts", i+1))
					}
				}
				slices.Sort(want)
				checkAgainst(t, tr, want, "full")
				require.False(t, tr.root.leafKids, "a tree of %d entries has more than one level", n)

				order(vs, rng)
				for i, v := range vs {
					if !tr.Delete(v) || tr.Delete(v) {
						require.Failf(t, "Delete", "Delete(%d) then again: want true, then false", v)
					}
					k, _ := slices.BinarySearch(want, v)
					want = slices.Delete(want, k, k+1)
					if i%(n/8) == 0 || len(want) < 20 {
						checkAgainst(t, tr, want, fmt.Sprintf("after %d deletes", i+1))
					}
				}
				require.True(t, tr.root.leafKids, "an empty tree shrinks back to one level")
				require.Equal(t, 0, tr.Len())
			})
		}
	}
}

func TestTreeBuild(t *testing.T) {
	for _, lim := range [][2]int32{{3, 3}, {4, 3}, {leafCap, innerCap - 1}} {
		for _, n := range []int{0, 1, 2, 3, 5, 17, 64, 200, 4000} {
			tr := intTree(lim[0], lim[1])
			tr.Insert(-1) // Build replaces what was there
			want := make([]int, n)
			for i := range want {
				want[i] = i * 3 / 2 // runs of equal decades
			}
			require.NoError(t, tr.Build(want), "Build(%d)", n)
			checkAgainst(t, tr, want, fmt.Sprintf("Build(%d) limits %v", n, lim))
			// The built tree keeps working.
			for i := 0; i < n; i += 2 {
				require.True(t, tr.Delete(want[i]))
				require.True(t, tr.Insert(want[i]))
			}
			checkAgainst(t, tr, want, fmt.Sprintf("Build(%d) then churn", n))
		}
	}
	tr := intTree(4, 3)
	for _, bad := range [][]int{{2, 1}, {1, 1}, {1, 2, 3, 3}} {
		err := tr.Build(bad)
		var ve *gamifytype.ValidationError
		require.True(t, errors.As(err, &ve), "Build(%v) = %v, want a ValidationError", bad, err)
		require.ErrorIs(t, err, gamifytype.ErrInvalid)
	}
}

func TestTreeCursor(t *testing.T) {
	tr := intTree(3, 3)
	want := make([]int, 50)
	for i := range want {
		want[i] = i * 2
		tr.Insert(i * 2)
	}
	c := tr.At(7)
	for k := 7; k < len(want); k++ {
		require.True(t, c.Valid(), "At(7) then Next to %d", k)
		require.Equal(t, k, c.Pos())
		require.Equal(t, want[k], c.Item(), "Item at %d", k)
		c.Next()
	}
	require.False(t, c.Valid(), "Next past the end")
	c = tr.At(len(want) - 1)
	for k := len(want) - 1; k >= 0; k-- {
		require.Equal(t, want[k], c.Item(), "Item at %d walking back", k)
		c.Prev()
	}
	require.False(t, c.Valid(), "Prev before the start")
	for _, k := range []int{-1, len(want)} {
		c = tr.At(k)
		require.False(t, c.Valid(), "At(%d)", k)
	}
}

func TestTreeWithoutGroups(t *testing.T) {
	tr := NewTree(Config[string]{Compare: cmp.Compare[string]})
	for _, s := range []string{"b", "a", "c"} {
		tr.Insert(s)
	}
	require.Equal(t, 0, tr.Groups(2), "Groups without Config.Same")
	w, found := tr.Where("b", WithGroups)
	require.True(t, found)
	require.Equal(t, Where{Pos: 1, First: 1}, w, "Where without Config.Same")
	pos, found := tr.Rank("bb")
	require.Equal(t, 2, pos)
	require.False(t, found)
	require.Panics(t, func() { NewTree(Config[int]{}) }, "NewTree without Compare")
	require.Panics(t, func() {
		NewTree(Config[int]{Compare: cmp.Compare[int], Same: func(a, b int) bool { return true }})
	}, "NewTree with Same but no Floor")
}

// TestLeafLayout guards the memory budget: a leaf of leaderboard entries must
// fit the 2048-byte size class and hold no pointers (a pointer adds a malloc
// header, moving it to the 2304-byte class, and makes the GC scan it).
func TestLeafLayout(t *testing.T) {
	size := unsafe.Sizeof(leaf[Entry]{})
	require.LessOrEqual(t, size, uintptr(2048), "leaf[Entry] size = %d, want <= 2048", size)
	typ := reflect.TypeFor[leaf[Entry]]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		k := f.Type.Kind()
		if k == reflect.Array {
			k = f.Type.Elem().Kind()
		}
		require.NotContains(t, []reflect.Kind{reflect.Pointer, reflect.Slice, reflect.Map, reflect.String, reflect.Interface, reflect.Func, reflect.Chan}, k, "leaf field %s holds pointers", f.Name)
	}
	require.Equal(t, uintptr(32), unsafe.Sizeof(Entry{}), "Entry stays 32 bytes")
}
