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
