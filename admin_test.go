package gamify_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func TestOpenReportsEveryBadOption(t *testing.T) {
	_, err := gamify.Open(t.TempDir()+"/x.db", &gamify.Options{
		Durability: 7, MaxFlushDelay: -1, MaxEventAge: -time.Hour, NotifyBuffer: -1, UserCache: -1,
	})
	for _, f := range []string{"Options.Durability", "Options.MaxFlushDelay", "Options.MaxEventAge", "Options.NotifyBuffer", "Options.UserCache"} {
		require.ErrorContains(t, err, f)
	}
	require.ErrorIs(t, err, gamify.ErrInvalid)
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: "plan", Name: "Plan", Type: gamify.UserAttribute})
	require.NoError(t, err)

	u, err := eng.Users().Create(ctx, gamify.UserInput{ID: "ana", Name: "Ana", Email: "ana@example.com", TZ: "Europe/Paris",
		Attributes: map[string]string{"plan": "pro"}})
	require.NoError(t, err)
	require.True(t, u.Active)
	require.True(t, u.SubscribeToEmails)
	require.Equal(t, t0, u.Created)
	_, err = eng.Users().Create(ctx, gamify.UserInput{ID: "ana"})
	require.ErrorIs(t, err, gamify.ErrConflict)
	_, err = eng.Users().Update(ctx, gamify.UserInput{ID: "nobody", Name: "X"})
	require.ErrorIs(t, err, gamify.ErrNotFound)

	eng.clock.Advance(time.Hour)
	u, err = eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", Name: "Ana B"})
	require.NoError(t, err)
	require.Equal(t, "Ana B", u.Name)
	require.Equal(t, "Europe/Paris", u.TZ, "fields not given are kept")
	require.Equal(t, t0.Add(time.Hour), u.Updated)

	no := false
	u, err = eng.Users().Update(ctx, gamify.UserInput{ID: "ana", SubscribeToEmails: &no, Attributes: map[string]string{"plan": ""}})
	require.NoError(t, err)
	require.Empty(t, u.Email, "an unsubscribed user's email is not stored")
	require.Empty(t, u.Attributes)
	got, err := eng.Users().Get(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, u, got)

	for _, c := range []struct {
		in    gamify.UserInput
		field string
	}{
		{gamify.UserInput{ID: ""}, "User.ID"},
		{gamify.UserInput{ID: "x", TZ: "Nowhere/City"}, "User.TZ"},
		{gamify.UserInput{ID: "x", Email: "not-an-email"}, "User.Email"},
		{gamify.UserInput{ID: "x", Attributes: map[string]string{"undeclared": "1"}}, "User.Attributes[undeclared]"},
		{gamify.UserInput{ID: "x", DeviceTokens: []string{""}}, "User.DeviceTokens[0]"},
	} {
		_, err := eng.Users().Identify(ctx, c.in)
		var ve *gamify.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, c.field, ve.Field)
	}
	_, err = eng.Users().Get(ctx, "x")
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

func TestPreferences(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "steps")
	_, err := eng.Users().Identify(ctx, gamify.UserInput{ID: "ana"})
	require.NoError(t, err)
	p, err := eng.Users().Preferences(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, []gamify.Channel{gamify.ChannelEmail, gamify.ChannelPush}, p.Notifications[gamify.NotifyRecap])

	p, err = eng.Users().PatchPreferences(ctx, "ana", func(p *gamify.Preferences) {
		p.Notifications[gamify.NotifyRecap] = nil
		p.Streak = gamify.StreakPreferences{Enabled: true, Thresholds: map[string]gamify.Amount{"steps": gamify.AmountFromInt(5000)}}
	})
	require.NoError(t, err)
	require.Empty(t, p.Notifications[gamify.NotifyRecap])
	require.Len(t, p.Notifications[gamify.NotifyStreakReminder], 2, "types left out keep their channels")
	eng.reopen(t)
	got, err := eng.Users().Preferences(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, p, got)

	// A change of channels keeps the streak personalization (a replace used
	// to reset it), and the other way round.
	p, err = eng.Users().PatchPreferences(ctx, "ana", func(p *gamify.Preferences) {
		p.Notifications[gamify.NotifyReactivation] = []gamify.Channel{gamify.ChannelPush}
	})
	require.NoError(t, err)
	require.Equal(t, got.Streak, p.Streak)
	require.Equal(t, []gamify.Channel{gamify.ChannelPush}, p.Notifications[gamify.NotifyReactivation])
	require.Empty(t, p.Notifications[gamify.NotifyRecap])

	before := gamify.DumpStore(eng.Engine)
	_, err = eng.Users().PatchPreferences(ctx, "ana", func(p *gamify.Preferences) {
		p.Notifications["sms_blast"] = []gamify.Channel{"pigeon"}
		p.Streak.Thresholds = map[string]gamify.Amount{"nope": gamify.AmountFromInt(1)}
	})
	for _, f := range []string{"Preferences.Notifications", "Preferences.Notifications[sms_blast]", "Preferences.Streak.Thresholds[nope]"} {
		require.ErrorContains(t, err, f)
	}
	require.Equal(t, before, gamify.DumpStore(eng.Engine))
	_, err = eng.Users().PatchPreferences(ctx, "ghost", func(*gamify.Preferences) {})
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

func TestPreferencesPatchRetriesOnConcurrentChange(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "steps")
	_, err := eng.Users().Identify(ctx, gamify.UserInput{ID: "ana"})
	require.NoError(t, err)
	calls := 0
	p, err := eng.Users().PatchPreferences(ctx, "ana", func(p *gamify.Preferences) {
		calls++
		if calls == 1 { // another writer lands between this edit and its command
			_, err := eng.Users().PatchPreferences(ctx, "ana", func(p *gamify.Preferences) { p.Streak.Enabled = true })
			require.NoError(t, err)
		}
		p.Notifications[gamify.NotifyRecap] = nil
		p.Streak.Thresholds = map[string]gamify.Amount{} // none: stored as none
	})
	require.NoError(t, err)
	require.Equal(t, 2, calls, "the edit ran again on the new version")
	require.True(t, p.Streak.Enabled, "the concurrent patch is kept")
	require.Empty(t, p.Notifications[gamify.NotifyRecap])
	eng.reopen(t)
	got, err := eng.Users().Preferences(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, p, got, "the result is what is stored")
}

func TestMetricsAdmin(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	m, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "steps", Name: "Steps", Units: "steps"})
	require.NoError(t, err)
	require.Equal(t, gamify.UnitNumber, m.UnitType)
	require.Equal(t, gamify.StatusActive, m.Status)
	_, err = eng.Metrics().Create(ctx, gamify.Metric{Key: "steps", Name: "Again"})
	require.ErrorIs(t, err, gamify.ErrConflict)

	name := "Daily steps"
	m, err = eng.Metrics().Patch(ctx, "steps", func(m *gamify.Metric) { m.Name = name })
	require.NoError(t, err)
	require.Equal(t, "Daily steps", m.Name)
	require.Equal(t, "steps", m.Units, "a patch keeps the fields it does not set")

	created, issues, err := eng.Metrics().BulkCreate(ctx, []gamify.Metric{
		{Key: "a", Name: "A"}, {Key: "bad key", Name: "B"}, {Key: "steps", Name: "dup"}, {Key: "c", Name: "C", UnitType: gamify.UnitCurrency},
	})
	require.NoError(t, err)
	require.Len(t, created, 2)
	require.Len(t, issues, 2)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrInvalid)
	require.Equal(t, 2, issues[1].Index)
	require.ErrorIs(t, issues[1].Err, gamify.ErrConflict)

	list, err := eng.Metrics().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"steps", "a", "c"}, keys(list))
	list, err = eng.Metrics().List(ctx, gamify.ListOptions{Limit: 1, Skip: 1})
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, keys(list))
	_, err = eng.Metrics().List(ctx, gamify.ListOptions{Limit: 101})
	require.ErrorIs(t, err, gamify.ErrInvalid)

	// Archive: hidden, not trackable, key not reusable, totals kept.
	_, err = eng.Track(ctx, gamify.Event{Metric: "a", User: "ana", Value: 3})
	require.NoError(t, err)
	issues, err = eng.Metrics().BulkDelete(ctx, []string{"a", "zzz"})
	require.NoError(t, err)
	require.Len(t, issues, 1)
	require.ErrorIs(t, issues[0].Err, gamify.ErrNotFound)
	list, err = eng.Metrics().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"steps", "c"}, keys(list))
	_, err = eng.Track(ctx, gamify.Event{Metric: "a", User: "ana", Value: 3})
	require.ErrorIs(t, err, gamify.ErrInvalid)
	_, err = eng.Metrics().Create(ctx, gamify.Metric{Key: "a", Name: "A2"})
	require.ErrorIs(t, err, gamify.ErrConflict)
	got, err := eng.Metrics().Get(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, got.Status)

	eng.reopen(t)
	list, err = eng.Metrics().List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	require.Equal(t, []string{"steps", "a", "c"}, keys(list))
	ms, err := eng.Users().Metrics(ctx, "ana")
	require.NoError(t, err)
	require.Len(t, ms, 2, "archived metrics are not listed")

	updated, issues, err := eng.Metrics().BulkPatch(ctx, []string{"c", "a"}, func(m *gamify.Metric) { m.Name = name })
	require.NoError(t, err)
	require.Len(t, updated, 1)
	require.Equal(t, name, updated[0].Name)
	require.Equal(t, gamify.UnitCurrency, updated[0].UnitType, "kept")
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrNotFound, "an archived metric is not patched")
	_, _, err = eng.Metrics().BulkCreate(ctx, make([]gamify.Metric, 101))
	require.ErrorIs(t, err, gamify.ErrInvalid)
}

func TestMetricPatchAndLifecycle(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	created, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "km", Name: "Distance", Description: "Running", ImageURL: "https://x/km.png", Units: "km"})
	require.NoError(t, err)

	// Refused edits name their field and change nothing.
	before := gamify.DumpStore(eng.Engine)
	for field, edit := range map[string]func(*gamify.Metric){
		"Metric.Key":      func(m *gamify.Metric) { m.Key = "mi" },
		"Metric.Status":   func(m *gamify.Metric) { m.Status = gamify.StatusInactive },
		"Metric.Created":  func(m *gamify.Metric) { m.Created = m.Created.Add(time.Hour) },
		"Metric.Name":     func(m *gamify.Metric) { m.Name = "" },
		"Metric.UnitType": func(m *gamify.Metric) { m.UnitType = "miles" },
	} {
		_, err := eng.Metrics().Patch(ctx, "km", edit)
		var ve *gamify.ValidationError
		require.ErrorAs(t, err, &ve, field)
		require.Equal(t, field, ve.Field)
	}
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "a refused patch changes nothing")
	_, err = eng.Metrics().Patch(ctx, "nope", func(*gamify.Metric) {})
	require.ErrorIs(t, err, gamify.ErrNotFound)

	eng.clock.Advance(time.Minute)
	m, err := eng.Metrics().Patch(ctx, "km", func(m *gamify.Metric) { m.Units = "kilometres" })
	require.NoError(t, err)
	want := created
	want.Units, want.Updated = "kilometres", created.Updated.Add(time.Minute)
	require.Equal(t, want, m, "only Units (and Updated) changed")
	got, err := eng.Metrics().Get(ctx, "km")
	require.NoError(t, err)
	require.Equal(t, m, got)

	// Deactivate: events are refused, the metric is listed, Activate undoes it.
	_, err = eng.Track(ctx, gamify.Event{Metric: "km", User: "ana", Value: 2})
	require.NoError(t, err)
	m, err = eng.Metrics().Deactivate(ctx, "km")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusInactive, m.Status)
	_, err = eng.Track(ctx, gamify.Event{Metric: "km", User: "ana", Value: 2})
	require.ErrorIs(t, err, gamify.ErrInvalid)
	list, err := eng.Metrics().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"km"}, keys(list), "inactive metrics are listed")
	m, err = eng.Metrics().Patch(ctx, "km", func(m *gamify.Metric) { m.Name = "Run" })
	require.NoError(t, err, "an inactive metric can be patched")
	require.Equal(t, gamify.StatusInactive, m.Status)
	again, err := eng.Metrics().Deactivate(ctx, "km")
	require.NoError(t, err, "deactivating twice is not an error")
	require.Equal(t, m, again)
	eng.reopen(t)
	m, err = eng.Metrics().Activate(ctx, "km")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, m.Status)
	r, err := eng.Track(ctx, gamify.Event{Metric: "km", User: "ana", Value: 2})
	require.NoError(t, err)
	require.Equal(t, "4", r.Total.String(), "the total was kept while inactive")

	_, err = eng.Metrics().Create(ctx, gamify.Metric{Key: "later", Name: "Later", Status: gamify.StatusInactive})
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "later", User: "ana", Value: 1})
	require.ErrorIs(t, err, gamify.ErrInvalid, "created inactive")
	_, err = eng.Metrics().Create(ctx, gamify.Metric{Key: "gone", Name: "Gone", Status: gamify.StatusArchived})
	require.ErrorContains(t, err, "Metric.Status")

	require.NoError(t, eng.Metrics().Delete(ctx, "km"))
	_, err = eng.Metrics().Activate(ctx, "km")
	require.ErrorIs(t, err, gamify.ErrNotFound, "an archived metric stays archived")
	_, err = eng.Metrics().Patch(ctx, "km", func(m *gamify.Metric) { m.Name = "Back" })
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

// A patch whose metric changes between the edit and the command is redone on
// the new version, so two concurrent patches of different fields both land.
func TestMetricPatchRetriesOnConcurrentChange(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	_, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "km", Name: "Distance"})
	require.NoError(t, err)
	calls := 0
	m, err := eng.Metrics().Patch(ctx, "km", func(m *gamify.Metric) {
		calls++
		if calls == 1 { // another writer lands between this edit and its command
			_, err := eng.Metrics().Patch(ctx, "km", func(m *gamify.Metric) { m.Units = "km" })
			require.NoError(t, err)
		}
		m.Description = "Running"
	})
	require.NoError(t, err)
	require.Equal(t, 2, calls, "the edit ran again on the new version")
	require.Equal(t, "km", m.Units, "the concurrent patch is kept")
	require.Equal(t, "Running", m.Description)
}

func keys(ms []gamify.Metric) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Key)
	}
	return out
}

func attrKeys(as []gamify.Attribute) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Key)
	}
	return out
}

func TestAttributesAdmin(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	created, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: "mode", Name: "Mode", Type: gamify.EventAttribute})
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, created.Status)
	_, err = eng.Attributes().Create(ctx, gamify.Attribute{Key: "x", Name: "X", Type: "weird"})
	require.ErrorContains(t, err, "Attribute.Type")

	// BulkCreate: per-item issues; List in creation order, paged.
	out, issues, err := eng.Attributes().BulkCreate(ctx, []gamify.Attribute{
		{Key: "zone", Name: "Zone", Type: gamify.UserAttribute}, {Key: "mode", Name: "Again", Type: gamify.EventAttribute},
		{Key: "bad key", Name: "B", Type: gamify.UserAttribute}, {Key: "level", Name: "Level", Type: gamify.EventAttribute},
		{Key: "gone", Name: "Gone", Type: gamify.UserAttribute, Status: gamify.StatusArchived},
	})
	require.NoError(t, err)
	require.Equal(t, []string{"zone", "level"}, attrKeys(out))
	require.Len(t, issues, 3)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrConflict)
	require.Equal(t, 2, issues[1].Index)
	var ve *gamify.ValidationError
	require.ErrorAs(t, issues[1].Err, &ve)
	require.Equal(t, "Attribute.Key", ve.Field)
	require.Equal(t, 4, issues[2].Index)
	require.ErrorAs(t, issues[2].Err, &ve)
	require.Equal(t, "Attribute.Status", ve.Field)
	_, _, err = eng.Attributes().BulkCreate(ctx, make([]gamify.Attribute, 101))
	require.ErrorIs(t, err, gamify.ErrInvalid)
	list, err := eng.Attributes().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"mode", "zone", "level"}, attrKeys(list), "creation order")
	list, err = eng.Attributes().List(ctx, gamify.ListOptions{Limit: 2, Skip: 1})
	require.NoError(t, err)
	require.Equal(t, []string{"zone", "level"}, attrKeys(list))
	_, err = eng.Attributes().List(ctx, gamify.ListOptions{Limit: 101})
	require.ErrorIs(t, err, gamify.ErrInvalid)

	// Patch keeps the other fields; Key and Type are immutable.
	eng.clock.Advance(time.Minute)
	a, err := eng.Attributes().Patch(ctx, "mode", func(a *gamify.Attribute) { a.Name = "Game mode" })
	require.NoError(t, err)
	want := created
	want.Name, want.Updated = "Game mode", created.Updated.Add(time.Minute)
	require.Equal(t, want, a)
	before := gamify.DumpStore(eng.Engine)
	for field, edit := range map[string]func(*gamify.Attribute){
		"Attribute.Key":     func(a *gamify.Attribute) { a.Key = "mode2" },
		"Attribute.Type":    func(a *gamify.Attribute) { a.Type = gamify.UserAttribute },
		"Attribute.Status":  func(a *gamify.Attribute) { a.Status = gamify.StatusInactive },
		"Attribute.Created": func(a *gamify.Attribute) { a.Created = time.Time{} },
		"Attribute.Name":    func(a *gamify.Attribute) { a.Name = "" },
	} {
		_, err := eng.Attributes().Patch(ctx, "mode", edit)
		require.ErrorAs(t, err, &ve, field)
		require.Equal(t, field, ve.Field)
	}
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "a refused patch changes nothing")
	patched, issues, err := eng.Attributes().BulkPatch(ctx, []string{"zone", "nope", "level"}, func(a *gamify.Attribute) { a.Name += "!" })
	require.NoError(t, err)
	require.Equal(t, []string{"zone", "level"}, attrKeys(patched))
	require.Equal(t, "Level!", patched[1].Name)
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrNotFound)

	// Delete archives: refused in events, hidden, kept, key not reusable.
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "u", Value: 1, Attributes: map[string]string{"mode": "ranked"}})
	require.NoError(t, err)
	issues, err = eng.Attributes().BulkDelete(ctx, []string{"mode", "mode", "nope"})
	require.NoError(t, err)
	require.Len(t, issues, 2)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrNotFound, "already archived")
	require.Equal(t, 2, issues[1].Index)
	require.ErrorIs(t, eng.Attributes().Delete(ctx, "mode"), gamify.ErrNotFound)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "u", Value: 1, Attributes: map[string]string{"mode": "ranked"}})
	require.ErrorContains(t, err, "Event.Attributes[mode]")
	list, err = eng.Attributes().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"zone", "level"}, attrKeys(list))
	_, err = eng.Attributes().Create(ctx, gamify.Attribute{Key: "mode", Name: "Mode", Type: gamify.EventAttribute})
	require.ErrorIs(t, err, gamify.ErrConflict)
	_, err = eng.Attributes().Patch(ctx, "mode", func(a *gamify.Attribute) { a.Name = "Back" })
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Attributes().Activate(ctx, "mode")
	require.ErrorIs(t, err, gamify.ErrNotFound)

	eng.reopen(t)
	list, err = eng.Attributes().List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	require.Equal(t, []string{"mode", "zone", "level"}, attrKeys(list), "creation order survives a reopen")
	got, err := eng.Attributes().Get(ctx, "mode")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, got.Status)
	require.Equal(t, "Game mode", got.Name)
}

// An inactive attribute is refused in events and profiles like an
// undeclared one; the values users hold are kept.
func TestAttributeDeactivateRefusesValuesAndKeepsStored(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: "plan", Name: "Plan", Type: gamify.UserAttribute})
	require.NoError(t, err)
	_, err = eng.Attributes().Create(ctx, gamify.Attribute{Key: "level", Name: "Level", Type: gamify.EventAttribute})
	require.NoError(t, err)
	_, err = eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", Attributes: map[string]string{"plan": "pro"}})
	require.NoError(t, err)

	a, err := eng.Attributes().Deactivate(ctx, "plan")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusInactive, a.Status)
	again, err := eng.Attributes().Deactivate(ctx, "plan")
	require.NoError(t, err, "deactivating twice is not an error")
	require.Equal(t, a, again)
	_, err = eng.Attributes().Deactivate(ctx, "level")
	require.NoError(t, err)
	list, err := eng.Attributes().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"plan", "level"}, attrKeys(list), "inactive attributes are listed")

	before := gamify.DumpStore(eng.Engine)
	_, err = eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", Attributes: map[string]string{"plan": "free"}})
	require.ErrorContains(t, err, "Attributes[plan]")
	require.ErrorIs(t, err, gamify.ErrInvalid)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Attributes: map[string]string{"level": "3"}})
	require.ErrorContains(t, err, "Event.Attributes[level]")
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1,
		Profile: &gamify.UserInput{Attributes: map[string]string{"plan": "free"}}})
	require.ErrorContains(t, err, "Attributes[plan]")
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "refused values change nothing")
	u, err := eng.Users().Get(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, "pro", u.Attributes["plan"], "the stored value is kept")

	eng.reopen(t)
	got, err := eng.Attributes().Get(ctx, "plan")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusInactive, got.Status)
	a, err = eng.Attributes().Activate(ctx, "plan")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, a.Status)
	again, err = eng.Attributes().Activate(ctx, "plan")
	require.NoError(t, err)
	require.Equal(t, a, again)
	_, err = eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", Attributes: map[string]string{"plan": "free"}})
	require.NoError(t, err)
	_, err = eng.Attributes().Create(ctx, gamify.Attribute{Key: "later", Name: "Later", Type: gamify.EventAttribute, Status: gamify.StatusInactive})
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Attributes: map[string]string{"later": "x"}})
	require.ErrorContains(t, err, "Event.Attributes[later]", "created inactive")
}

func TestSubscribeDeliversAfterCommitInOrder(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	var mu sync.Mutex
	var got []string
	sub := eng.Subscribe(func(n gamify.Notification) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, n.UserID())
	})
	for _, u := range []string{"a", "b", "a", "c"} {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: u, Value: 1})
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 }, 5*time.Second, time.Millisecond)
	sub.Close()
	require.Equal(t, []string{"a", "b", "c"}, got, "one UserCreated per new user, in commit order")
	require.Zero(t, sub.Dropped())
}

func TestSlowSubscriberDropsInsteadOfStalling(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{NotifyBuffer: 2})
	mustMetric(t, eng.Engine, "xp")
	block, holding := make(chan struct{}), make(chan struct{}, 1)
	sub := eng.Subscribe(func(gamify.Notification) {
		select {
		case holding <- struct{}{}:
		default:
		}
		<-block
	})
	track := func(i int) {
		t.Helper()
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: string(rune('a' + i)), Value: 1})
		require.NoError(t, err, "the writer does not wait for a subscriber")
	}
	track(0)
	<-holding // the callback holds the first note (on one core it may not have run yet)
	for i := 1; i < 10; i++ {
		track(i)
	}
	// One is held by the blocked callback and two are buffered; the rest drop.
	require.Eventually(t, func() bool { return sub.Dropped() == 7 }, 5*time.Second, time.Millisecond)
	require.Never(t, func() bool { return sub.Dropped() != 7 }, 20*time.Millisecond, time.Millisecond)
	close(block)
	sub.Close()
}

// A subscriber that is behind keeps the notes of every commit it queued:
// later batches, which reuse a committed batch's slices, never write over
// them.
func TestQueuedNotesOutliveTheirBatch(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{NotifyBuffer: 1000})
	mustMetric(t, eng.Engine, "xp")
	block := make(chan struct{})
	var got []string
	sub := eng.Subscribe(func(n gamify.Notification) {
		<-block
		got = append(got, n.UserID())
	})
	var want []string
	for i := range 200 {
		u := fmt.Sprint("u", i)
		want = append(want, u)
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: u, Value: 1}) // Durable: a commit each
		require.NoError(t, err)
	}
	close(block)
	sub.Close() // delivers what it queued, then returns
	require.Equal(t, want, got)
}

// The answer to the same refused admin change is the same every time: the
// fields a points-system edit may not set are named in one order, and the
// composite that keeps an achievement from being deleted is the first by key.
func TestRefusedAdminChangesAnswerTheSameEveryTime(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	for _, d := range []gamify.Achievement{
		{Key: "ten", Name: "Ten", Kind: gamify.AchievementMetric, Metric: "xp", Threshold: gamify.AmountFromInt(10)},
		{Key: "b-combo", Name: "B", Kind: gamify.AchievementComposite, Prerequisites: []string{"ten"}},
		{Key: "a-combo", Name: "A", Kind: gamify.AchievementComposite, Prerequisites: []string{"ten"}},
	} {
		_, err := eng.Achievements().Create(ctx, d)
		require.NoError(t, err)
	}
	for range 20 {
		_, err := eng.Points().Patch(ctx, "coins", func(s *gamify.PointsSystem) {
			s.Levels = []gamify.Level{{Key: "l"}}
			s.Triggers = []gamify.Trigger{{Key: "t"}}
			s.Boosts = []gamify.Boost{{Key: "b"}}
		})
		require.Regexp(t, `PointsSystem\.Levels.*\n.*PointsSystem\.Triggers.*\n.*PointsSystem\.Boosts`, err.Error())
		err = eng.Achievements().Delete(ctx, "ten")
		require.ErrorIs(t, err, gamify.ErrConflict)
		require.ErrorContains(t, err, "prerequisite of a-combo")
	}
}
