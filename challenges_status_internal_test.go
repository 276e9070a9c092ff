package gamify

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify/gamifytype"
)

// TestLoadChallengeOff: a challenge stored without "off" (before challenges
// kept when they were inactive) was never inactive, unless it is inactive
// now: then since its last change, or since ever when unchanged since its
// creation; a stored "off" is kept as it is.
func TestLoadChallengeOff(t *testing.T) {
	created, changed := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	closed := []gamifytype.Interval{{From: created.Add(time.Hour), To: created.Add(2 * time.Hour)}}
	for _, tc := range []struct {
		name    string
		status  Status
		updated time.Time
		off     []gamifytype.Interval
		want    []gamifytype.Interval
	}{
		{"active", StatusActive, changed, nil, nil},
		{"active with off", StatusActive, changed, closed, closed},
		{"inactive, changed since created", StatusInactive, changed, nil, []gamifytype.Interval{{From: changed}}},
		{"inactive, never changed", StatusInactive, created, nil, []gamifytype.Interval{{}}},
		{"inactive, closed off only", StatusInactive, changed, closed, append(closed, gamifytype.Interval{From: changed})},
		{"inactive with open off", StatusInactive, changed, []gamifytype.Interval{{From: created}}, []gamifytype.Interval{{From: created}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := Challenge{Key: "c", Name: "C", Window: ChallengePerpetual, Enrollment: ChallengeExplicit,
				Objectives: []ChallengeObjective{{Key: "o", Metric: "m", Target: AmountFromInt(1)}},
				Status:     tc.status, Created: created, Updated: tc.updated}
			v, err := json.Marshal(storedChallenge{Challenge: ch, Ref: 1, Off: tc.off})
			require.NoError(t, err)
			if tc.off == nil {
				require.NotContains(t, string(v), `"off"`, "absent when never inactive")
			}
			cat := newCatalog()
			require.NoError(t, loadChallenge(cat, defChallenge+"c", v))
			require.Equal(t, tc.want, cat.chals.byRef[1].Inactive)
		})
	}
}
