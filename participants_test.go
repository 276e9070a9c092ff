package gamify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func ids(p gamify.ParticipantPage) []string {
	var out []string
	for _, r := range p.Rows {
		out = append(out, r.ID)
	}
	return out
}

func TestListParticipants(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 1))
	for i, name := range []string{"Zoe", "adam", "Mia", "Bob"} {
		_, err := eng.Users().Identify(ctx, gamify.UserInput{ID: fmt.Sprintf("u%d", i), Name: name})
		require.NoError(t, err)
		eng.clock.Advance(time.Minute)
	}
	for i, v := range []float64{5, 50, 20} {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: fmt.Sprintf("u%d", i), Value: v})
		require.NoError(t, err)
	}
	p, err := eng.Users().ListParticipants(ctx, gamify.ParticipantQuery{})
	require.NoError(t, err)
	require.Equal(t, []string{"u0", "u1", "u2", "u3"}, ids(p), "by creation")
	require.Equal(t, 4, p.Total)
	require.Equal(t, "5", p.Rows[0].Points.String())
	require.Equal(t, uint64(1), p.Rows[0].Events)

	p, err = eng.Users().ListParticipants(ctx, gamify.ParticipantQuery{Sort: gamify.SortTotalPoints, Descending: true, PageSize: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"u1", "u2"}, ids(p))
	require.Equal(t, 4, p.Total, "every user, those without a balance at 0")
	p, err = eng.Users().ListParticipants(ctx, gamify.ParticipantQuery{Sort: gamify.SortTotalPoints, Page: 1, PageSize: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"u3", "u0"}, ids(p), "u3 has no balance: 0, first ascending")

	// A points system created later gives every listed user a 0 entry.
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	require.NoError(t, err)
	p, err = eng.Users().ListParticipants(ctx, gamify.ParticipantQuery{Sort: gamify.SortTotalPoints, System: "gems"})
	require.NoError(t, err)
	require.Equal(t, 4, p.Total)
	require.Equal(t, []string{"u0", "u1", "u2", "u3"}, ids(p), "all at 0, by internal id")
	p, err = eng.Users().ListParticipants(ctx, gamify.ParticipantQuery{Sort: gamify.SortName, Page: 2, PageSize: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"u2", "u0"}, ids(p), "names sort case-insensitively: adam, Bob | Mia, Zoe")

	// The index follows later changes, anonymization and deletes.
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "u3", Value: 100})
	require.NoError(t, err)
	_, err = eng.Users().Anonymize(ctx, "u0")
	require.NoError(t, err)
	require.NoError(t, eng.Users().Delete(ctx, "u2"))
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "newbie", Value: 1, Profile: &gamify.UserInput{Name: "Zed"}})
	require.NoError(t, err)
	p, err = eng.Users().ListParticipants(ctx, gamify.ParticipantQuery{Sort: gamify.SortTotalPoints, Descending: true})
	require.NoError(t, err)
	require.Equal(t, []string{"u3", "u1", "u0", "newbie"}, ids(p))
	active := false
	p, err = eng.Users().ListParticipants(ctx, gamify.ParticipantQuery{Active: &active})
	require.NoError(t, err)
	require.Equal(t, []string{"u0"}, ids(p))
	require.Equal(t, 1, p.Total)
	p, err = eng.Users().ListParticipants(ctx, gamify.ParticipantQuery{Search: "Z"})
	require.NoError(t, err)
	require.Equal(t, []string{"newbie"}, ids(p), "Zoe was anonymized; Zed matches")
	_, err = eng.Users().ListParticipants(ctx, gamify.ParticipantQuery{PageSize: 101})
	require.ErrorIs(t, err, gamify.ErrInvalid)
	_, err = eng.Users().ListParticipants(ctx, gamify.ParticipantQuery{Sort: "age"})
	require.ErrorIs(t, err, gamify.ErrInvalid)
}
