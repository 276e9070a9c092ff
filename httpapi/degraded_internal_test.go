package httpapi

import (
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// TestEventJSONWithoutDefinitions: once an event is applied, its answer is
// built even when no definition can be read (here: the engine closed under
// the request), from what the result holds.
func TestEventJSONWithoutDefinitions(t *testing.T) {
	eng, err := gamify.Open(filepath.Join(t.TempDir(), "g.db"), nil)
	require.NoError(t, err)
	require.NoError(t, eng.Close())
	c := &call{r: httptest.NewRequest("POST", "/v1/metrics/words/event", nil), eng: eng, key: &Key{}, log: slog.New(slog.DiscardHandler)}
	res := gamify.EventResult{EventID: "7", User: "ana", Metric: "words", Total: gamify.AmountFromInt(12),
		Achievements: []gamify.AchievementCompletion{{Key: "ten", Name: "Ten"}},
		Streak:       &gamify.StreakResult{Key: "daily", Length: 3, Extended: true, Freezes: 1},
		Points: []gamify.PointsChange{{System: "xp", Total: gamify.AmountFromInt(24), Added: gamify.AmountFromInt(4),
			Awards: []gamify.Award{{ID: 9, Trigger: "xp-words", Points: gamify.AmountFromInt(4)}}, Level: &gamify.LevelChange{From: "a", To: "b"}}},
		Leaderboards: []gamify.LeaderboardChange{{Key: "top", Rank: 2, PreviousRank: 3}},
	}
	out := c.eventJSON(res)
	require.Equal(t, "7", out.EventID)
	require.Equal(t, "ten", out.Achievements[0].Key)
	require.Equal(t, "Ten", out.Achievements[0].Name)
	require.Equal(t, 3, out.CurrentStreak.Length)
	require.Equal(t, true, out.CurrentStreak.Extended)
	require.Equal(t, "xp", out.Points["xp"].Key)
	require.Equal(t, "4", out.Points["xp"].Added.String())
	require.Nil(t, out.Points["xp"].Awards[0].Trigger)
	require.Equal(t, "b", out.Points["xp"].Level.Key)
	require.Equal(t, 2, *out.Leaderboards["top"].Rank)
}
