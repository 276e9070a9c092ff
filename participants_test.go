package gamify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func ids(p gamify.UserPage) []string {
	var out []string
	for _, r := range p.Rows {
		out = append(out, r.ID)
	}
	return out
}

func TestUsersList(t *testing.T) {
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
	p, err := eng.Users().List(ctx, gamify.UserQuery{})
	require.NoError(t, err)
	require.Equal(t, []string{"u0", "u1", "u2", "u3"}, ids(p), "by creation")
	require.Equal(t, 4, p.Total)
	require.Equal(t, "5", p.Rows[0].Points.String())
	require.Equal(t, uint64(1), p.Rows[0].Events)

	p, err = eng.Users().List(ctx, gamify.UserQuery{Sort: gamify.SortTotalPoints, Descending: true, PageSize: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"u1", "u2"}, ids(p))
	require.Equal(t, 4, p.Total, "every user, those without a balance at 0")
	p, err = eng.Users().List(ctx, gamify.UserQuery{Sort: gamify.SortTotalPoints, Page: 1, PageSize: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"u3", "u0"}, ids(p), "u3 has no balance: 0, first ascending")

	// A points system created later gives every listed user a 0 entry.
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	require.NoError(t, err)
	p, err = eng.Users().List(ctx, gamify.UserQuery{Sort: gamify.SortTotalPoints, System: "gems"})
	require.NoError(t, err)
	require.Equal(t, 4, p.Total)
	require.Equal(t, []string{"u0", "u1", "u2", "u3"}, ids(p), "all at 0, by internal id")
	p, err = eng.Users().List(ctx, gamify.UserQuery{Sort: gamify.SortName, Page: 2, PageSize: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"u2", "u0"}, ids(p), "names sort case-insensitively: adam, Bob | Mia, Zoe")
	require.Equal(t, 2, p.Page, "the page is echoed")
	require.Equal(t, 2, p.PageSize)

	// The index follows later changes, anonymization and deletes.
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "u3", Value: 100})
	require.NoError(t, err)
	_, err = eng.Users().Anonymize(ctx, "u0")
	require.NoError(t, err)
	require.NoError(t, eng.Users().Erase(ctx, "u2"))
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "newbie", Value: 1, Profile: &gamify.UserInput{Name: "Zed"}})
	require.NoError(t, err)
	p, err = eng.Users().List(ctx, gamify.UserQuery{Sort: gamify.SortTotalPoints, Descending: true})
	require.NoError(t, err)
	require.Equal(t, []string{"u3", "u1", "u0", "newbie"}, ids(p))
	active := false
	p, err = eng.Users().List(ctx, gamify.UserQuery{Active: &active})
	require.NoError(t, err)
	require.Equal(t, []string{"u0"}, ids(p))
	require.Equal(t, 1, p.Total)
	p, err = eng.Users().List(ctx, gamify.UserQuery{Search: "Z"})
	require.NoError(t, err)
	require.Equal(t, []string{"newbie"}, ids(p), "Zoe was anonymized; Zed matches")
	_, err = eng.Users().List(ctx, gamify.UserQuery{PageSize: 101})
	require.ErrorIs(t, err, gamify.ErrInvalid)
	_, err = eng.Users().List(ctx, gamify.UserQuery{Sort: "age"})
	require.ErrorIs(t, err, gamify.ErrInvalid)
	p, err = eng.Users().List(ctx, gamify.UserQuery{})
	require.NoError(t, err)
	require.Equal(t, 1, p.Page, "defaults are echoed")
	require.Equal(t, 50, p.PageSize)
}

func TestUserDeactivateAndActivate(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 3, Profile: &gamify.UserInput{Name: "Ana"}})
	require.NoError(t, err)
	_, err = eng.Users().List(ctx, gamify.UserQuery{}) // builds the index, which must then follow the change
	require.NoError(t, err)
	eng.clock.Advance(time.Minute)
	u, err := eng.Users().Deactivate(ctx, "ana")
	require.NoError(t, err)
	require.False(t, u.Active)
	require.Equal(t, "Ana", u.Name, "deactivation keeps the profile")
	again, err := eng.Users().Deactivate(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, u, again, "deactivating twice changes nothing")
	inactive := false
	p, err := eng.Users().List(ctx, gamify.UserQuery{Active: &inactive})
	require.NoError(t, err)
	require.Equal(t, []string{"ana"}, ids(p))
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 2})
	require.NoError(t, err, "an inactive user's events still apply")
	require.Equal(t, "5", r.Total.String())
	eng.reopen(t)
	got, err := eng.Users().Get(ctx, "ana")
	require.NoError(t, err)
	require.False(t, got.Active)
	u, err = eng.Users().Activate(ctx, "ana")
	require.NoError(t, err)
	require.True(t, u.Active)
	p, err = eng.Users().List(ctx, gamify.UserQuery{Active: &inactive})
	require.NoError(t, err)
	require.Empty(t, p.Rows)
	_, err = eng.Users().Deactivate(ctx, "ghost")
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

// Sorting by points needs a points system: without one the page used to be
// empty with every user counted in its total.
func TestUsersListByPointsWithoutAPointsSystem(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	_, err := eng.Users().Identify(ctx, gamify.UserInput{ID: "ana"})
	require.NoError(t, err)
	_, err = eng.Users().List(ctx, gamify.UserQuery{Sort: gamify.SortTotalPoints})
	requireField(t, err, "UserQuery.Sort")
	p, err := eng.Users().List(ctx, gamify.UserQuery{})
	require.NoError(t, err)
	require.Equal(t, 1, p.Total)
	require.Len(t, p.Rows, 1)
}
