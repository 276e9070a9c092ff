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
