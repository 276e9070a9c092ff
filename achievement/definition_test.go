package achievement

import (
	"errors"
	"strings"
	"testing"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

// fields returns the Field of every ValidationError joined in err.
func fields(t testing.TB, err error) []string {
	t.Helper()
	var out []string
	for _, e := range unjoin(err) {
		var ve *gamifytype.ValidationError
		require.True(t, errors.As(e, &ve), "%v is not a ValidationError", e)
		require.ErrorIs(t, e, gamifytype.ErrInvalid)
		out = append(out, ve.Field)
	}
	return out
}

func TestValidate(t *testing.T) {
	for _, d := range []Definition{
		metricDef("m", "steps", 1), streakDef("s", "daily", 1), manualDef("x"), compositeDef("c", "a", "b"),
		{Key: "full", Name: "Full", Description: "d", BadgeURL: "https://x/b.png", Category: "c", Rarity: Legendary, Order: -3,
			Kind: KindMetric, Status: Locked, Metric: "m", Threshold: micros(1), EventFilters: map[string]string{"k": ""}, UserFilters: map[string]string{"plan": "pro"}},
	} {
		require.NoError(t, d.Validate(), "Validate(%s)", d.Key)
	}
	withKind := func(k Kind, f func(d *Definition)) Definition {
		d := Definition{Key: "k", Kind: k, Status: Active}
		f(&d)
		return d
	}
	for _, tc := range []struct {
		d    Definition
		want []string
	}{
		{Definition{}, []string{"Achievement.Key", "Achievement.Kind"}},
		{withKind(KindMetric, func(d *Definition) {}), []string{"Achievement.Metric", "Achievement.Threshold"}},
		{withKind(KindMetric, func(d *Definition) { d.Metric, d.Threshold = "m", micros(-1) }), []string{"Achievement.Threshold"}},
		{withKind(KindStreak, func(d *Definition) { d.Streak = "s" }), []string{"Achievement.Length"}},
		{withKind(KindStreak, func(d *Definition) { d.Length = MaxStreakLength + 1 }), []string{"Achievement.Streak", "Achievement.Length"}},
		{withKind(KindManual, func(d *Definition) { d.Metric, d.Threshold, d.Streak, d.Length = "m", micros(1), "s", 1 }),
			[]string{"Achievement.Metric", "Achievement.Threshold", "Achievement.Streak", "Achievement.Length"}},
		{withKind(KindManual, func(d *Definition) {
			d.EventFilters = map[string]string{"a": "b"}
			d.Prerequisites = []string{"a"}
		}), []string{"Achievement.EventFilters", "Achievement.Prerequisites"}},
		{withKind(KindComposite, func(d *Definition) {}), []string{"Achievement.Prerequisites"}},
		{withKind(KindComposite, func(d *Definition) { d.Prerequisites = []string{"a", "k", "a", "b c"} }),
			[]string{"Achievement.Prerequisites[1]", "Achievement.Prerequisites[2]", "Achievement.Prerequisites[3]"}},
		{withKind(KindManual, func(d *Definition) {
			d.Name, d.Category = strings.Repeat("n", MaxTextLen+1), strings.Repeat("c", MaxTextLen+1)
			d.Description, d.BadgeURL = strings.Repeat("d", MaxDescLen+1), strings.Repeat("u", MaxURLLen+1)
		}), []string{"Achievement.Name", "Achievement.Description", "Achievement.BadgeURL", "Achievement.Category"}},
		{withKind(KindManual, func(d *Definition) { d.Rarity, d.Status = Legendary+1, Locked+1 }), []string{"Achievement.Rarity", "Achievement.Status"}},
		{withKind(KindManual, func(d *Definition) {
			d.UserFilters = map[string]string{"bad key": "v", "ok": strings.Repeat("v", MaxTextLen+1)}
		}), []string{"Achievement.UserFilters[bad key]", "Achievement.UserFilters[ok]"}},
		{withKind(KindManual, func(d *Definition) {
			d.UserFilters = map[string]string{}
			for i := range MaxFilters + 1 {
				d.UserFilters[string(rune('a'+i))] = ""
			}
		}), []string{"Achievement.UserFilters"}},
	} {
		got := fields(t, tc.d.Validate())
		require.Equal(t, tc.want, got, "Validate(%+v) fields = %v, want %v", tc.d, got, tc.want)
	}
}

func TestNewCatalog(t *testing.T) {
	_, err := NewCatalog([]Definition{metricDef("a", "m", 1), manualDef("a"), compositeDef("c", "a", "missing"), {Key: "bad"}})
	require.Equal(t, []string{"Achievements[1].Key", "Achievements[3].Kind", "Achievements[2].Prerequisites[1]"}, fields(t, err))

	_, err = NewCatalog([]Definition{compositeDef("a", "b"), compositeDef("b", "c"), compositeDef("c", "a"), manualDef("d")})
	require.Equal(t, []string{"Achievements[0].Prerequisites"}, fields(t, err))
	require.ErrorContains(t, err, "a -> b -> c -> a")

	c, err := NewCatalog(nil)
	require.NoError(t, err)
	require.Zero(t, c.Len())

	// The catalogue does not share maps with the caller.
	d := metricDef("a", "m", 1)
	d.UserFilters = map[string]string{"plan": "pro"}
	c = catalog(t, d)
	d.UserFilters["plan"] = "free"
	got, ok := c.Get("a")
	require.True(t, ok)
	require.Equal(t, "pro", got.UserFilters["plan"])
	got.UserFilters["plan"] = "x"
	require.Equal(t, "pro", c.Definitions()[0].UserFilters["plan"])
	_, ok = c.Get("b")
	require.False(t, ok)
}

func TestCatalogOrder(t *testing.T) {
	// A diamond and a chain, given in the worst order: every composite must
	// come after its prerequisites in every plan.
	c := catalog(t,
		compositeDef("top", "left", "right"),
		compositeDef("left", "base"),
		compositeDef("right", "base", "m2"),
		compositeDef("base", "m1"),
		metricDef("m1", "x", 1),
		metricDef("m2", "y", 1),
	)
	for _, p := range []plan{c.byMetric["x"], c.byMetric["y"]} {
		pos := map[string]int{}
		for n, i := range p.composites {
			pos[c.defs[i].Key] = n
		}
		for _, i := range p.composites {
			for _, pre := range c.defs[i].Prerequisites {
				if n, ok := pos[pre]; ok {
					require.Less(t, n, pos[c.defs[i].Key], "%s evaluated before its prerequisite %s", c.defs[i].Key, pre)
				}
			}
		}
	}
	u := newUser(t, c)
	require.Equal(t, []string{"m1", "base", "left"}, u.event("x", 1, at(0)))
	require.Equal(t, []string{"m2", "right", "top"}, u.event("y", 1, at(1)))
}

func FuzzValidate(f *testing.F) {
	f.Add("k", uint8(1), uint8(1), "m", int64(1), "s", 0, "a,b", "plan", "pro", "")
	f.Add("", uint8(9), uint8(9), "", int64(-1), "", -1, "k,k", "bad key", "", "x")
	f.Fuzz(func(t *testing.T, key string, kind, status uint8, metric string, threshold int64, streak string, length int, prereqs, fk, fv, name string) {
		d := Definition{Key: key, Kind: Kind(kind), Status: Status(status), Metric: metric, Threshold: gamifytype.AmountFromMicros(threshold),
			Streak: streak, Length: length, Name: name, UserFilters: map[string]string{fk: fv}, EventFilters: map[string]string{fv: fk}}
		if prereqs != "" {
			d.Prerequisites = strings.Split(prereqs, ",")
		}
		err := d.Validate()
		if err != nil {
			for _, e := range unjoin(err) {
				var ve *gamifytype.ValidationError
				require.True(t, errors.As(e, &ve), "%v is not a ValidationError", e)
				require.True(t, strings.HasPrefix(ve.Field, "Achievement."), "field %q", ve.Field)
			}
			return
		}
		// A valid definition makes a catalogue on its own unless it needs others.
		c, cerr := NewCatalog([]Definition{d})
		if d.Kind == KindComposite {
			require.Error(t, cerr)
			return
		}
		require.NoError(t, cerr)
		s, _, err := OnMetric(c, State{}, MetricChange{Metric: metric, Delta: d.Threshold, Total: d.Threshold, EventAttrs: d.EventFilters, UserAttrs: d.UserFilters}, t0)
		require.NoError(t, err)
		_, held := s.Completed(key)
		require.Equal(t, d.Kind == KindMetric && d.Status == Active, held, "a metric event of exactly the threshold completes an active metric achievement")
	})
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{KindMetric.String(), "metric"}, {KindComposite.String(), "composite"}, {Kind(0).String(), "Kind(0)"}, {Kind(9).String(), "Kind(9)"},
		{Inactive.String(), "inactive"}, {Locked.String(), "locked"}, {Status(3).String(), "Status(3)"},
		{Common.String(), "common"}, {Legendary.String(), "legendary"}, {Rarity(4).String(), "Rarity(4)"},
	} {
		require.Equal(t, tc.want, tc.got)
	}
}
