package points

import (
	"slices"
	"testing"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

func TestHistogram(t *testing.T) {
	for _, c := range []struct {
		name   string
		totals []string
		step   string // width of the ten ranges
		users  [11]int
	}{
		{"empty", nil, "1", [11]int{}},
		{"zeros and negatives", []string{"0", "-5", "0"}, "1", [11]int{3}},
		{"top 350 → 1000", []string{"0", "1", "100", "100.000001", "350", "-1"}, "100",
			[11]int{2, 2, 1, 0, 1}},
		{"top exactly a power of ten", []string{"1000", "999", "1"}, "100",
			[11]int{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2}},
		{"fractional top", []string{"0.5"}, "1", [11]int{0, 1}},
		{"top 10", []string{"10", "9.5", "0.000001"}, "1", [11]int{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2}},
		{"top 11 → 100", []string{"11", "10"}, "10", [11]int{0, 1, 1}},
	} {
		var totals []Amount
		for _, s := range c.totals {
			totals = append(totals, pts(s))
		}
		h := Histogram(totals)
		require.Len(t, h, 11)
		var got [11]int
		for i, b := range h {
			got[i] = b.Users
		}
		require.Equal(t, c.users, got, "%s: Histogram(%v) = %v, want %v", c.name, c.totals, got, c.users)
		require.Equal(t, Bucket{From: Amount{}, To: Amount{}, Users: c.users[0]}, h[0])
		step := pts(c.step)
		for i := 1; i <= 10; i++ {
			require.Equal(t, times(step, int64(i-1)), h[i].From, "%s: bucket %d From", c.name, i)
			require.Equal(t, times(step, int64(i)), h[i].To, "%s: bucket %d To", c.name, i)
		}
	}
	h := Histogram([]Amount{gamifytype.MaxAmount, micros(1)})
	require.Equal(t, gamifytype.MaxAmount, h[10].To)
	require.Equal(t, 1, h[10].Users)
	require.Equal(t, 1, h[1].Users)
}

func TestUsersPerLevel(t *testing.T) {
	ls := levels()
	pinned, _, err := PinLevel(ls, State{total: pts("5")}, "gold")
	require.NoError(t, err)
	states := []State{{total: pts("-1")}, {total: Amount{}}, {total: pts("99")}, {total: pts("100")}, {total: pts("800")}, pinned,
		{total: pts("600"), pin: "deleted-level"}}
	got := UsersPerLevel(ls, slices.Values(states))
	want := []LevelCount{{"", 1}, {"bronze", 2}, {"silver", 1}, {"gold", 3}}
	require.Equal(t, want, got, "UsersPerLevel = %v, want %v", got, want)
}
