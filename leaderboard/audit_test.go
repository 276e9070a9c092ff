package leaderboard

import (
	"cmp"
	"testing"

	"github.com/stretchr/testify/require"
)

// NewTree panics only as its comment says: a Floor without Same is unused,
// not an error.
func TestNewTreeFloorWithoutSame(t *testing.T) {
	var tr *Tree[int]
	require.NotPanics(t, func() {
		tr = NewTree(Config[int]{Compare: cmp.Compare[int], Floor: func(a int) int { return a }})
	})
	require.True(t, tr.Insert(3))
	require.True(t, tr.Insert(1))
	w, found := tr.Where(3, WithGroups)
	require.True(t, found)
	require.Equal(t, Where{Pos: 1, First: 1}, w)
}

// An invalid cursor (the zero one, or one walked off either end) stays
// invalid on Next and Prev and has the zero Item, instead of panicking.
func TestInvalidCursor(t *testing.T) {
	tr := NewTree(Config[int]{Compare: cmp.Compare[int]})
	tr.Insert(1)
	var zero Cursor[int]
	c := tr.At(0)
	c.Next()
	d := tr.At(0)
	d.Prev()
	for _, c := range []*Cursor[int]{&zero, &c, &d} {
		require.False(t, c.Valid())
		require.NotPanics(t, func() { c.Next(); c.Prev() })
		require.False(t, c.Valid())
		require.Zero(t, c.Item())
	}
}

// An unknown Ties ranks as Competition, as the Ties comment says.
func TestUnknownTiesRanksAsCompetition(t *testing.T) {
	x := New(Desc)
	x.Set(1, 10, 0, 1)
	x.Set(2, 10, 0, 2)
	x.Set(3, 5, 0, 3)
	for u := uint32(1); u <= 3; u++ {
		want, _ := x.Rank(u, Competition)
		got, ok := x.Rank(u, Ties(9))
		require.True(t, ok)
		require.Equal(t, want, got)
	}
	require.Equal(t, x.Top(3, Competition, nil), x.Top(3, Ties(9), nil))
	c := x.Update(3, 10, 0, 4, Ties(9))
	require.Equal(t, Change{Old: Entry{Score: 5, Reached: 3, User: 3}, Existed: true, OldRank: 3, Rank: 1}, c)
}
