package gamify

import (
	"testing"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

func TestOffAfterStatus(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	off := offAfterStatus(nil, StatusActive, StatusInactive, h(1))
	off = offAfterStatus(off, StatusInactive, StatusActive, h(2))
	off = offAfterStatus(off, StatusActive, StatusInactive, h(3))
	want := []gamifytype.Interval{{From: h(1), To: h(2)}, {From: h(3)}}
	if len(off) != 2 || off[0] != want[0] || off[1] != want[1] {
		t.Fatalf("off = %v, want %v", off, want)
	}
	if got := offAfterStatus(off, StatusInactive, StatusArchived, h(4)); len(got) != 2 {
		t.Errorf("archiving changed the intervals: %v", got)
	}
	// Inactive for no time at all leaves no interval; the input is never modified.
	again := offAfterStatus(off, StatusInactive, StatusActive, h(3))
	if len(again) != 1 || off[1].To != (time.Time{}) {
		t.Errorf("reactivated at once: %v (input %v)", again, off)
	}
	// Old closed intervals are dropped, and past the bound the oldest merge.
	late := h(1).Add(offRetention + 2*time.Hour)
	if got := offAfterStatus(off[:1:1], StatusActive, StatusInactive, late); len(got) != 1 || got[0].From != late {
		t.Errorf("retention: %v", got)
	}
	var many []gamifytype.Interval
	for i := range maxOffIntervals + 1 {
		many = offAfterStatus(many, StatusActive, StatusInactive, h(2*i))
		many = offAfterStatus(many, StatusInactive, StatusActive, h(2*i+1))
	}
	if len(many) != maxOffIntervals || many[0].From != h(0) || many[0].To != h(3) {
		t.Errorf("bound: %d intervals, first %v", len(many), many[0])
	}
}

// TestLoadedOff: a definition stored inactive by a version that kept no
// intervals is inactive since its last change, or since ever if it never
// changed after its creation.
func TestLoadedOff(t *testing.T) {
	created := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	updated := created.Add(time.Hour)
	closed := []gamifytype.Interval{{From: created.Add(10 * time.Minute), To: created.Add(20 * time.Minute)}}
	for name, c := range map[string]struct {
		off       []gamifytype.Interval
		inactive  bool
		upd       time.Time
		wantLast  gamifytype.Interval
		wantCount int
	}{
		"active, kept":              {closed, false, updated, closed[0], 1},
		"inactive, since a change":  {nil, true, updated, gamifytype.Interval{From: updated}, 1},
		"inactive, never changed":   {nil, true, created, gamifytype.Interval{}, 1},
		"inactive, closed only":     {closed, true, updated, gamifytype.Interval{From: updated}, 2},
		"inactive, open one stored": {[]gamifytype.Interval{{From: created}}, true, updated, gamifytype.Interval{From: created}, 1},
	} {
		got := loadedOff(c.off, c.inactive, created, c.upd)
		if len(got) != c.wantCount || got[len(got)-1] != c.wantLast {
			t.Errorf("%s: %v", name, got)
		}
	}
	if len(closed) != 1 {
		t.Error("the stored intervals were modified")
	}
}
