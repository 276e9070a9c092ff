package schedule

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestQueue(t *testing.T) {
	t0 := utc(2026, 3, 8, 0, 0)
	var q Queue // the zero Queue is usable
	_, _, ok := q.Peek()
	require.False(t, ok)
	require.Nil(t, q.PopDue(t0))
	require.False(t, q.Remove("x"))
	require.Equal(t, 0, q.Len())

	q.Push("b", t0.Add(time.Hour))
	q.Push("a", t0.Add(time.Hour)) // same due: ordered by id
	q.Push("c", t0.Add(30*time.Minute))
	q.Push("d", t0.Add(2*time.Hour))
	q.Push("e", t0.Add(3*time.Hour))
	require.Equal(t, 5, q.Len())

	id, due, ok := q.Peek()
	require.True(t, ok)
	require.Equal(t, "c", id)
	require.True(t, due.Equal(t0.Add(30*time.Minute)))

	// Replace: d moves before everything, c moves behind a and b.
	q.Push("d", t0.Add(10*time.Minute))
	q.Push("c", t0.Add(90*time.Minute))
	require.Equal(t, 5, q.Len())
	got, ok := q.Due("c")
	require.True(t, ok)
	require.True(t, got.Equal(t0.Add(90*time.Minute)))

	require.True(t, q.Remove("e"))
	require.False(t, q.Remove("e"))
	_, ok = q.Due("e")
	require.False(t, ok)

	// A zero due (never again) removes the job.
	q.Push("z", t0)
	q.Push("z", time.Time{})
	_, ok = q.Due("z")
	require.False(t, ok)
	require.Equal(t, 4, q.Len())

	require.Nil(t, q.PopDue(t0))
	items := q.PopDue(t0.Add(time.Hour)) // due == now is due
	require.Equal(t, []Item{{"d", t0.Add(10 * time.Minute)}, {"a", t0.Add(time.Hour)}, {"b", t0.Add(time.Hour)}}, items)
	require.Equal(t, 1, q.Len())
	items = q.PopDue(t0.Add(24 * time.Hour))
	require.Equal(t, []Item{{"c", t0.Add(90 * time.Minute)}}, items)
	require.Equal(t, 0, q.Len())
	_, _, ok = q.Peek()
	require.False(t, ok)
}

// TestQueueLocations checks that order follows instants, not wall clocks.
func TestQueueLocations(t *testing.T) {
	ny := zone(t, "America/New_York")
	var q Queue
	q.Push("utc", utc(2026, 1, 1, 12, 0))
	q.Push("ny", time.Date(2026, 1, 1, 6, 59, 0, 0, ny)) // 11:59 UTC
	id, _, _ := q.Peek()
	require.Equal(t, "ny", id)
	q.Push("same", time.Date(2026, 1, 1, 7, 0, 0, 0, ny)) // equal instant to "utc"
	items := q.PopDue(utc(2026, 1, 1, 12, 0))
	require.Equal(t, []string{"ny", "same", "utc"}, []string{items[0].ID, items[1].ID, items[2].ID})
}

// TestQueueModel runs random operations against a map and compares.
func TestQueueModel(t *testing.T) {
	ops := 20000
	if testing.Short() {
		ops = 2000
	}
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := utc(2026, 1, 1, 0, 0)
	var q Queue
	model := map[string]time.Time{}
	now := t0
	for i := range ops {
		id := fmt.Sprintf("job%d", rng.IntN(50))
		switch op := rng.IntN(10); {
		case op < 5:
			due := now.Add(time.Duration(rng.IntN(100)) * time.Minute)
			q.Push(id, due)
			model[id] = due
		case op < 7:
			_, want := model[id]
			require.Equal(t, want, q.Remove(id), "op %d: Remove(%s)", i, id)
			delete(model, id)
		default:
			now = now.Add(time.Duration(rng.IntN(30)) * time.Minute)
			var want []Item
			for id, due := range model {
				if !due.After(now) {
					want = append(want, Item{id, due})
					delete(model, id)
				}
			}
			slices.SortFunc(want, func(a, b Item) int {
				if c := a.Due.Compare(b.Due); c != 0 {
					return c
				}
				return strings.Compare(a.ID, b.ID)
			})
			require.Equal(t, want, q.PopDue(now), "op %d: PopDue(%v)", i, now)
		}
		require.Equal(t, len(model), q.Len(), "op %d", i)
		if id, due, ok := q.Peek(); ok {
			for mid, mdue := range model {
				require.False(t, mdue.Before(due) || mdue.Equal(due) && mid < id, "op %d: Peek() = %s %v, but %s is due %v", i, id, due, mid, mdue)
			}
		} else {
			require.Empty(t, model, "op %d: Peek() found nothing", i)
		}
	}
}

func TestQueueAscendAfter(t *testing.T) {
	t0 := utc(2026, 3, 8, 0, 0)
	var q Queue
	q.AscendAfter(time.Time{}, "", func(Item) bool { t.Fatal("empty queue"); return false })
	q.Push("b", t0.Add(time.Hour))
	q.Push("a", t0.Add(time.Hour))
	q.Push("c", t0.Add(30*time.Minute))
	q.Push("d", t0.Add(2*time.Hour))
	walk := func(due time.Time, id string, n int) []string {
		var ids []string
		q.AscendAfter(due, id, func(it Item) bool {
			ids = append(ids, it.ID)
			return len(ids) < n
		})
		return ids
	}
	require.Equal(t, []string{"c", "a", "b", "d"}, walk(time.Time{}, "", 10))
	require.Equal(t, []string{"b", "d"}, walk(t0.Add(time.Hour), "a", 10), "after the position (due, id), not at it")
	require.Equal(t, []string{"a"}, walk(t0.Add(30*time.Minute), "c", 1), "until fn returns false")
	require.Equal(t, []string{"a", "b", "d"}, walk(t0.Add(45*time.Minute), "zz", 10), "a position between jobs")
	require.Empty(t, walk(t0.Add(2*time.Hour), "d", 10))
}
