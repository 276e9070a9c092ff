package gamify

import (
	"fmt"
	"testing"
)

// TestCohortCut: who of a cohort moves at a run's end, by its members,
// its tier (0 first, 2 top) and the league's Promote and Demote.
func TestCohortCut(t *testing.T) {
	for _, c := range []struct {
		m, size, tier, promote, demote int
		up, down                       int
	}{
		{m: 1, size: 30, tier: 0, promote: 1, up: 0, down: 1},               // one user: nobody to beat
		{m: 2, size: 30, tier: 0, promote: 1, demote: 1, up: 1, down: 2},    // first tier: only promotion counts
		{m: 2, size: 30, tier: 1, promote: 1, demote: 1, up: 0, down: 2},    // two moves need three members
		{m: 3, size: 30, tier: 1, promote: 1, demote: 1, up: 1, down: 2},    // enough
		{m: 1, size: 30, tier: 2, promote: 1, demote: 1, up: 0, down: 1},    // top tier: only demotion counts
		{m: 2, size: 30, tier: 2, promote: 1, demote: 1, up: 0, down: 1},    // the last goes down
		{m: 2, size: 2, tier: 1, promote: 1, demote: 1, up: 1, down: 1},     // a full cohort moves as defined
		{m: 15, size: 30, tier: 1, promote: 10, demote: 5, up: 0, down: 15}, // half full: not more than 15 moves
		{m: 16, size: 30, tier: 1, promote: 10, demote: 5, up: 10, down: 11},
		{m: 4, size: 4, tier: 1, promote: 6, demote: 0, up: 4, down: 4}, // a Promote patched beyond the run's size
	} {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			up, down := cohortCut(c.m, c.size, c.tier, 2, c.promote, c.demote)
			if up != c.up || down != c.down {
				t.Fatalf("cohortCut = %d, %d; want %d, %d", up, down, c.up, c.down)
			}
		})
	}
}
