package gamify

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/leaderboard"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/store"
	"github.com/gamifykit/gamify/streak"
)

// Fuzz targets for the engine's boundary: events, every family of
// definitions, users and time zones through the public API, and the decoders
// of the records the engine stores. Each API target opens one engine (fsync
// off) and reuses it for every input; CI runs each for 20,000 executions.
//
// An API call must never panic. When it fails, the error is a
// *ValidationError or a sentinel (ErrInvalid, ErrConflict, ErrNotFound), and
// nothing was committed: the engine counts its commits through the
// beforeCommit seam, and a rejected call must not have made one. What an
// accepted call defined is readable, and is deleted again where the API allows
// it so that the engine stays small across executions. The engine's Check
// runs when the target ends.

var fuzzNow = time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)

type fuzzEngine struct {
	*Engine
	ctx     context.Context
	commits atomic.Int64
}

// newFuzzEngine opens the engine of a fuzz target and runs setup on it.
func newFuzzEngine(f *testing.F, setup func(e *fuzzEngine) error) *fuzzEngine {
	f.Helper()
	fe := &fuzzEngine{ctx: context.Background()}
	opts := &Options{Clock: NewManualClock(fuzzNow)}
	opts.noSync = true
	opts.beforeCommit = func() error { fe.commits.Add(1); return nil }
	e, err := Open(filepath.Join(f.TempDir(), "fuzz.db"), opts)
	if err != nil {
		f.Fatal(err)
	}
	fe.Engine = e
	f.Cleanup(func() {
		if err := e.Check(fe.ctx); err != nil {
			f.Errorf("Check after fuzzing: %v", err)
		}
		e.Close()
	})
	if setup != nil {
		if err := setup(fe); err != nil {
			f.Fatal(err)
		}
	}
	return fe
}

// call runs fn and, if it fails, requires a validation error or a sentinel
// and no commit. It reports whether fn succeeded.
func (fe *fuzzEngine) call(t *testing.T, what string, fn func() error) bool {
	t.Helper()
	before := fe.commits.Load()
	err := fn()
	if err == nil {
		return true
	}
	var ve *gamifytype.ValidationError
	if !errors.As(err, &ve) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) {
		t.Fatalf("%s: error is neither a ValidationError nor a sentinel: %v", what, err)
	}
	if n := fe.commits.Load() - before; n != 0 {
		t.Fatalf("%s failed (%v) but committed %d times", what, err, n)
	}
	return false
}

// mustCall runs fn, which must succeed.
func mustCall(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// fuzzSetup defines what the event and definition targets refer to: metric
// xp, event attribute color, user attribute tier, points system coins, a
// board, a streak, a trigger and an achievement on xp.
func fuzzSetup(fe *fuzzEngine) error {
	ctx := fe.ctx
	_, err := fe.Metrics().Create(ctx, Metric{Key: "xp", Name: "XP"})
	_, err2 := fe.Attributes().Create(ctx, Attribute{Key: "color", Name: "Color", Type: EventAttribute})
	_, err3 := fe.Attributes().Create(ctx, Attribute{Key: "tier", Name: "Tier", Type: UserAttribute})
	_, err4 := fe.Points().Create(ctx, PointsSystem{Key: "coins", Name: "Coins"})
	_, err5 := fe.Leaderboards().Create(ctx, Leaderboard{Key: "board", Name: "Board", RankBy: RankByMetric, Metric: "xp", RunEvery: 1, RunUnit: RunDay})
	_, err6 := fe.Leaderboards().Activate(ctx, "board")
	_, err7 := fe.Streaks().Create(ctx, Streak{Key: "daily", Name: "Daily", Frequency: StreakDaily, Metrics: []StreakMetric{{Metric: "xp", Min: AmountFromInt(1)}}})
	_, err8 := fe.Points().Triggers().Create(ctx, Trigger{Key: "per-xp", System: "coins", Kind: TriggerMetric, Metric: "xp",
		Threshold: AmountFromInt(1), Points: AmountFromInt(1)})
	_, err9 := fe.Achievements().Create(ctx, Achievement{Key: "xp10", Name: "XP 10", Kind: AchievementMetric,
		Metric: "xp", Threshold: AmountFromInt(10)})
	return errors.Join(err, err2, err3, err4, err5, err6, err7, err8, err9)
}

// FuzzTrack: an event with any metric key, user id, value (NaN and ±Inf
// too), time, attribute, idempotency key and profile is applied or rejected
// without trace; an applied one is readable, and its retry replays.
func FuzzTrack(f *testing.F) {
	fe := newFuzzEngine(f, fuzzSetup)
	f.Add("xp", "ana", 5.0, int64(0), "color", "red", "k1", "Europe/Lisbon", "Ana")
	f.Add("xp", "bo", -2.5, int64(-48*time.Hour), "", "", "", "", "")
	f.Add("xp", "cy", math.NaN(), int64(0), "", "", "", "", "")
	f.Add("xp", "cy", math.Inf(1), int64(0), "", "", "", "", "")
	f.Add("xp", "cy", 0.1234567, int64(time.Hour), "", "", "", "", "")
	f.Add("xp", "cy", 9e12, int64(0), "", "", "", "", "")
	f.Add("xp", "cy", 1.0, int64(math.MinInt64), "", "", "", "", "")
	f.Add("xp", "dee", 1.0, int64(0), "shape", "round", "", "Mars/Olympus", "")
	f.Add("nope", "", 1.0, int64(0), "", "", string(make([]byte, 300)), "", "")
	f.Fuzz(func(t *testing.T, metric, user string, value float64, dt int64, attrKey, attrVal, key, tz, name string) {
		ev := Event{Metric: metric, User: user, Value: value, IdempotencyKey: key}
		if dt != 0 {
			ev.Time = fuzzNow.Add(time.Duration(dt))
		}
		if attrKey != "" {
			ev.Attributes = map[string]string{attrKey: attrVal}
		}
		if tz != "" || name != "" {
			ev.Profile = &UserInput{TZ: tz, Name: name}
		}
		var res EventResult
		if !fe.call(t, "Track", func() (err error) { res, err = fe.Track(fe.ctx, ev); return err }) {
			return
		}
		um, err := fe.Users().Metric(fe.ctx, user, metric)
		mustCall(t, "Users().Metric of an accepted event", err)
		if um.Total != res.Total {
			t.Fatalf("Track reported total %s, the store holds %s", res.Total, um.Total)
		}
		if key == "" {
			return
		}
		again, err := fe.Track(fe.ctx, ev)
		mustCall(t, "retry", err)
		if !again.IdempotentReplayed || again.EventID != res.EventID || again.Total != res.Total {
			t.Fatalf("retry with key %q: %+v, first %+v", key, again, res)
		}
	})
}

// FuzzMetricDefinition: Create, Update and Delete of metrics.
func FuzzMetricDefinition(f *testing.F) {
	fe := newFuzzEngine(f, nil)
	f.Add("steps", "Steps", "walked", "https://x/y.png", "number", "steps", "Walked")
	f.Add("usd", "Money", "", "", "currency", "USD", "")
	f.Add("bad key", "", string(make([]byte, 5000)), "ftp://x", "weird", "", "\x00")
	f.Fuzz(func(t *testing.T, key, name, desc, url, unitType, units, newName string) {
		m := Metric{Key: key, Name: name, Description: desc, ImageURL: url, UnitType: UnitType(unitType), Units: units}
		if !fe.call(t, "Metrics().Create", func() error { _, err := fe.Metrics().Create(fe.ctx, m); return err }) {
			return
		}
		got, err := fe.Metrics().Get(fe.ctx, key)
		mustCall(t, "Get of a created metric", err)
		if got.Name != name || got.Units != units {
			t.Fatalf("created %+v, read %+v", m, got)
		}
		fe.call(t, "Metrics().Patch", func() error {
			_, err := fe.Metrics().Patch(fe.ctx, key, func(m *Metric) { m.Name, m.Units = newName, desc })
			return err
		})
		mustCall(t, "Metrics().Delete", fe.Metrics().Delete(fe.ctx, key))
	})
}

// FuzzAttributeDefinition: Create, Update and Delete of attributes.
func FuzzAttributeDefinition(f *testing.F) {
	fe := newFuzzEngine(f, nil)
	f.Add("plan", "Plan", "user", "Plan B")
	f.Add("level", "Level", "event", "")
	f.Add("", "x", "both", "y")
	f.Fuzz(func(t *testing.T, key, name, typ, newName string) {
		if !fe.call(t, "Attributes().Create", func() error {
			_, err := fe.Attributes().Create(fe.ctx, Attribute{Key: key, Name: name, Type: AttributeType(typ)})
			return err
		}) {
			return
		}
		fe.call(t, "Attributes().Patch", func() error {
			_, err := fe.Attributes().Patch(fe.ctx, key, func(a *Attribute) { a.Name = newName })
			return err
		})
		mustCall(t, "Attributes().Delete", fe.Attributes().Delete(fe.ctx, key))
	})
}

// FuzzLeaderboardDefinition: Create, Activate and Delete of boards, with
// any ranking, order, ties, time zone, dates, recurrence (interval or cron),
// daily window, cap and breakdown.
func FuzzLeaderboardDefinition(f *testing.F) {
	fe := newFuzzEngine(f, fuzzSetup)
	f.Add("weekly", "Weekly", "metric", "xp", "", uint8(0), uint8(0), "America/New_York", 2026, 3, 1, 0, 0, 0, 1, uint8(2), "", "", "", 0, "")
	f.Add("cron", "Cron", "score", "", "incr", uint8(1), uint8(2), "", 0, 0, 0, 2026, 12, 31, 0, uint8(0), "0 9 * * MON", "08:00", "20:00", 100, "tier")
	f.Add("pts", "Points", "points", "coins", "", uint8(9), uint8(9), "Local", 2026, 2, 30, 1900, 1, 1, -1, uint8(77), "@every 1h", "25:00", "x", -5, "nope")
	f.Fuzz(func(t *testing.T, key, name, rankBy, ref, op string, order, ties uint8, tz string,
		sy, sm, sd, ey, em, ed, every int, unit uint8, cron, from, to string, maxp int, breakdown string) {
		b := Leaderboard{Key: key, Name: name, RankBy: RankBy(rankBy), Operator: ScoreOperator(op), Order: fuzzOrders[int(order)%len(fuzzOrders)],
			Ties: fuzzTies[int(ties)%len(fuzzTies)], TZ: tz, Start: Date{Year: sy, Month: time.Month(sm), Day: sd}, End: Date{Year: ey, Month: time.Month(em), Day: ed},
			RunEvery: every, RunUnit: fuzzRunUnits[int(unit)%len(fuzzRunUnits)], RunCron: cron, Window: DailyWindow{From: from, To: to}, MaxParticipants: maxp}
		switch b.RankBy {
		case RankByMetric:
			b.Metric = ref
		case RankByStreak:
			b.Streak = ref
		case RankByPoints:
			b.System = ref
		}
		if breakdown != "" {
			b.Breakdown = []string{breakdown}
		}
		if !fe.call(t, "Leaderboards().Create", func() error { _, err := fe.Leaderboards().Create(fe.ctx, b); return err }) {
			return
		}
		fe.call(t, "Leaderboards().Activate", func() error { _, err := fe.Leaderboards().Activate(fe.ctx, key); return err })
		if _, err := fe.Leaderboards().Rankings(fe.ctx, key, BoardQuery{}); err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrInvalid) {
			t.Fatalf("Rankings of a new board: %v", err)
		}
		mustCall(t, "Leaderboards().Delete", fe.Leaderboards().Delete(fe.ctx, key))
	})
}

// The orders, tie policies and run units a fuzzed board picks from by index,
// each with an invalid one.
var (
	fuzzOrders   = []BoardOrder{"", Desc, Asc, "up"}
	fuzzTies     = []TiePolicy{"", TiesCompetition, TiesDense, TiesUnique, "shared"}
	fuzzRunUnits = []RunUnit{"", RunDay, RunWeek, RunMonth, RunYear, "fortnight"}
)

// FuzzStreakDefinition: Create and Delete of streaks.
func FuzzStreakDefinition(f *testing.F) {
	fe := newFuzzEngine(f, fuzzSetup)
	f.Add("walk", "Walk", uint8(streak.Daily), uint8(0), "xp", 1000.0, uint8(0), 0, 1, 2, 1, 7, false)
	f.Add("week", "Week", uint8(streak.Weekly), uint8(7), "xp", 0.5, uint8(streak.ModeAny), 48, 0, 0, 0, 0, true)
	f.Add("bad", "", uint8(99), uint8(99), "nope", math.NaN(), uint8(99), -1, -1, 1000, 5, -3, false)
	f.Fuzz(func(t *testing.T, key, name string, freq, week uint8, metric string, min float64, mode uint8, grace, initial, max, earn, every int, personal bool) {
		s := Streak{Key: key, Name: name, Frequency: StreakFrequency(streak.Frequency(freq).String()), WeekStart: Weekday(bytes.ToLower([]byte(streak.Weekday(week).String()))),
			Metrics: []StreakMetric{{Metric: metric, Min: fuzzAmount(min)}}, Mode: StreakMode(streak.Mode(mode).String()), GraceHours: grace,
			Freezes: StreakFreezes{Initial: initial, Max: max, EarnAmount: earn, EarnEveryDays: every}, Personalizable: personal}
		if !fe.call(t, "Streaks().Create", func() error { _, err := fe.Streaks().Create(fe.ctx, s); return err }) {
			return
		}
		_, err := fe.Streaks().Get(fe.ctx, key)
		mustCall(t, "Get of a created streak", err)
		mustCall(t, "Streaks().Delete", fe.Streaks().Delete(fe.ctx, key))
	})
}

// FuzzAchievementDefinition: Create and Delete of achievements of every kind.
func FuzzAchievementDefinition(f *testing.F) {
	fe := newFuzzEngine(f, fuzzSetup)
	f.Add("km", "Km", "", "", "run", uint8(0), uint8(1), uint8(2), 0, "xp", int64(5_000_000), "color", "red", "", 0, "", "tier", "gold")
	f.Add("s7", "Week", "", "", "", uint8(3), uint8(2), uint8(0), 1, "", int64(0), "", "", "daily", 7, "", "", "")
	f.Add("all", "All", "", "", "", uint8(1), uint8(4), uint8(1), 2, "", int64(0), "", "", "", 0, "xp10", "", "")
	f.Add("bad", "", "", "", "", uint8(9), uint8(9), uint8(9), -1, "nope", int64(-1), "shape", "", "nope", -7, "bad", "x", "")
	f.Fuzz(func(t *testing.T, key, name, desc, badge, category string, rarity, kind, status uint8, order int, metric string,
		threshold int64, fk, fv, streakKey string, length int, prereq, uk, uv string) {
		// Small numbers pick a valid enum (0 the zero value), others an unknown name.
		pick := func(n uint8, names ...string) string {
			if int(n) < len(names) {
				return names[n]
			}
			return fmt.Sprint("x", n)
		}
		d := Achievement{Key: key, Name: name, Description: desc, ImageURL: badge, Category: category,
			Rarity: Rarity(pick(rarity, "", "common", "rare", "epic", "legendary")),
			Kind:   AchievementKind(pick(kind, "", "metric", "streak", "manual", "composite")),
			Status: Status(pick(status, "", "inactive", "active", "locked", "archived")), Order: order,
			Metric: metric, Threshold: AmountFromMicros(threshold), Streak: streakKey, Length: length}
		if fk != "" {
			d.EventFilters = map[string]string{fk: fv}
		}
		if prereq != "" {
			d.Prerequisites = []string{prereq}
		}
		if uk != "" {
			d.UserFilters = map[string]string{uk: uv}
		}
		if !fe.call(t, "Achievements().Create", func() error { _, err := fe.Achievements().Create(fe.ctx, d); return err }) {
			return
		}
		_, err := fe.Achievements().Get(fe.ctx, key)
		mustCall(t, "Get of a created achievement", err)
		mustCall(t, "Achievements().Delete", fe.Achievements().Delete(fe.ctx, key))
	})
}

// FuzzPointsDefinitions: systems, triggers, boosts and levels.
func FuzzPointsDefinitions(f *testing.F) {
	fe := newFuzzEngine(f, fuzzSetup)
	f.Add("gems", "Gems", int64(0), "t1", uint8(points.KindMetric), int64(1_000_000), "xp", int64(5_000_000), 0, uint8(0), 0,
		"b1", uint8(points.Global), "", 2026, 3, 1, 2026, 3, 31, int64(2_000_000), uint8(0), "gold", int64(100_000_000), int64(0))
	f.Add("g2", "G", int64(-1), "t2", uint8(points.KindTime), int64(5), "", int64(0), 1, uint8(points.Days), 0,
		"b2", uint8(points.PerUser), "ana", 0, 0, 0, 0, 0, 0, int64(-1), uint8(9), "", int64(-5), int64(200_000_000))
	f.Add("g3", "", int64(9e18), "", uint8(99), int64(0), "nope", int64(-3), -1, uint8(99), -1,
		"", uint8(99), "", 2026, 2, 30, 2025, 1, 1, int64(0), uint8(0), "x y", int64(0), int64(-1))
	f.Fuzz(func(t *testing.T, sysKey, name string, maxPoints int64, trigKey string, kind uint8, pts int64, metric string, threshold int64,
		every int, unit uint8, everyN int, boostKey string, scope uint8, user string, fy, fm, fd, ty, tm, td int, mult int64, rounding uint8,
		levelKey string, lthreshold, lmult int64) {
		if fe.call(t, "Points().Create", func() error {
			_, err := fe.Points().Create(fe.ctx, PointsSystem{Key: sysKey, Name: name, MaxPoints: AmountFromMicros(maxPoints)})
			return err
		}) {
			mustCall(t, "Points().Delete", fe.Points().Delete(fe.ctx, sysKey))
		}
		tr := Trigger{Key: trigKey, System: "coins", Kind: fuzzName(fuzzKinds, kind), Points: AmountFromMicros(pts), Metric: metric, Threshold: AmountFromMicros(threshold),
			Achievement: metric, Streak: metric, EveryN: everyN, Every: every, Unit: fuzzName(fuzzUnits, unit)}
		if fe.call(t, "Points().Triggers().Create", func() error { _, err := fe.Points().Triggers().Create(fe.ctx, tr); return err }) {
			mustCall(t, "Points().Triggers().Delete", fe.Points().Triggers().Delete(fe.ctx, trigKey))
		}
		b := Boost{Key: boostKey, System: "coins", Name: name, Scope: fuzzName(fuzzScopes, scope), User: user,
			From: Date{Year: fy, Month: time.Month(fm), Day: fd}, To: Date{Year: ty, Month: time.Month(tm), Day: td},
			Multiplier: AmountFromMicros(mult), Rounding: fuzzName(fuzzRoundings, rounding)}
		if b.Scope == BoostCohort {
			b.UserFilters = map[string]string{"tier": user}
		}
		if fe.call(t, "Points().Boosts().Create", func() error { _, err := fe.Points().Boosts().Create(fe.ctx, b); return err }) {
			mustCall(t, "Points().Boosts().Delete", fe.Points().Boosts().Delete(fe.ctx, boostKey))
		}
		levels := []Level{{Key: "base", Level: 1, Name: "Base"}, {Key: levelKey, Level: 2, Name: name, Threshold: AmountFromMicros(lthreshold), Multiplier: AmountFromMicros(lmult)}}
		fe.call(t, "Points().Levels().BulkCreate", func() error { _, _, err := fe.Points().Levels("coins").BulkCreate(fe.ctx, levels); return err })
		// All of it in one system: created all together or not at all.
		tr.System, b.System = "", ""
		if fe.call(t, "Points().Create with definitions", func() error {
			_, err := fe.Points().Create(fe.ctx, PointsSystem{Key: sysKey + "-all", Name: name, MaxPoints: AmountFromMicros(maxPoints),
				Triggers: []Trigger{tr}, Boosts: []Boost{b}, Levels: levels})
			return err
		}) {
			mustCall(t, "Points().Delete", fe.Points().Delete(fe.ctx, sysKey+"-all"))
		}
	})
}

// The fuzzed enum values, by the points package's numbering (0 and values
// beyond are not names).
var (
	fuzzKinds     = []TriggerKind{"", TriggerMetric, TriggerAchievement, TriggerStreak, TriggerTime, TriggerUserCreation}
	fuzzUnits     = []TriggerUnit{"", TriggerHours, TriggerDays}
	fuzzScopes    = []BoostScope{"", BoostGlobal, BoostCohort, BoostUser}
	fuzzRoundings = []Rounding{RoundDown, RoundUp, RoundNearest}
)

func fuzzName[T ~string](names []T, i uint8) T {
	if int(i) < len(names) {
		return names[i]
	}
	return T(fmt.Sprint(i))
}

// FuzzRewardDefinition: Create of rewards of every type.
func FuzzRewardDefinition(f *testing.F) {
	fe := newFuzzEngine(f, fuzzSetup)
	f.Add("mug", "Mug", "physical", int64(100_000_000), "coins", 1, 10, int64(0), true, int64(0), int64(0))
	f.Add("x2", "Double", "points_multiplier", int64(0), "coins", 0, 0, fuzzNow.Add(time.Hour).UnixNano(), true, int64(2_000_000), int64(time.Hour))
	f.Add("bad", "", "gift", int64(-1), "nope", -1, -1, int64(1), false, int64(-1), int64(-1))
	f.Fuzz(func(t *testing.T, key, name, typ string, cost int64, system string, limit, inv int, expires int64, active bool, mult, dur int64) {
		r := Reward{Key: key, Name: name, Type: RewardType(typ), Cost: AmountFromMicros(cost), System: system, PerUserLimit: limit, Inventory: inv,
			Multiplier: AmountFromMicros(mult), Duration: time.Duration(dur)}
		if !active {
			r.Status = StatusInactive
		}
		if expires != 0 {
			r.Expires = time.Unix(0, expires)
		}
		var made Reward
		if !fe.call(t, "Rewards().Create", func() (err error) { made, err = fe.Rewards().Create(fe.ctx, r); return err }) {
			return
		}
		_, err := fe.Rewards().Get(fe.ctx, made.Key) // Create generates a key when r has none
		mustCall(t, "Get of a created reward", err)
	})
}

// FuzzUserInput: users (create/identify/update), attributes, device tokens,
// email consent and preferences; accepted users are deleted again.
func FuzzUserInput(f *testing.F) {
	fe := newFuzzEngine(f, fuzzSetup)
	f.Add("ana", "Ana", "ana@example.com", "Europe/Lisbon", "tier", "gold", "tok", uint8(1), "recap", "email", "daily", 2.0, true)
	f.Add("bo", "", "", "", "", "", "", uint8(2), "achievement_completed", "", "", 0.0, false)
	f.Add("", "x", "no-at", "Local", "shape", "x", "", uint8(0), "spam", "pigeon", "nope", math.Inf(-1), true)
	f.Fuzz(func(t *testing.T, id, name, email, tz, ak, av, token string, sub uint8, notif, channel, streakKey string, threshold float64, enabled bool) {
		in := UserInput{ID: id, Name: name, Email: email, TZ: tz}
		if ak != "" {
			in.Attributes = map[string]string{ak: av}
		}
		if token != "" {
			in.DeviceTokens = []string{token}
		}
		if sub > 0 {
			yes := sub == 1
			in.SubscribeToEmails = &yes
		}
		if !fe.call(t, "Users().Identify", func() error { _, err := fe.Users().Identify(fe.ctx, in); return err }) {
			return
		}
		u, err := fe.Users().Get(fe.ctx, id)
		mustCall(t, "Get of an identified user", err)
		if u.TZ != tz && tz != "" {
			t.Fatalf("identified with zone %q, read %q", tz, u.TZ)
		}
		fe.call(t, "Users().Update", func() error {
			_, err := fe.Users().Update(fe.ctx, UserInput{ID: id, Name: email, TZ: name})
			return err
		})
		prefs := Preferences{Notifications: map[NotificationType][]Channel{NotificationType(notif): {Channel(channel)}},
			Streak: StreakPreferences{Enabled: enabled, Thresholds: map[string]Amount{streakKey: fuzzAmount(threshold)}}}
		fe.call(t, "Users().PatchPreferences", func() error {
			_, err := fe.Users().PatchPreferences(fe.ctx, id, func(p *Preferences) { *p = prefs })
			return err
		})
		mustCall(t, "Users().Erase", fe.Users().Erase(fe.ctx, id))
	})
}

// FuzzTimezone: a zone name is accepted for a user exactly when it is for a
// board, and an accepted one is stored as given and loads.
func FuzzTimezone(f *testing.F) {
	board := Leaderboard{Key: "tz-board", Name: "TZ", RankBy: RankByMetric, Metric: "xp", Status: StatusInactive}
	fe := newFuzzEngine(f, func(fe *fuzzEngine) error {
		if err := fuzzSetup(fe); err != nil {
			return err
		}
		_, err := fe.Leaderboards().Create(fe.ctx, board) // inactive: its zone may change
		return err
	})
	for _, tz := range []string{"UTC", "America/New_York", "Asia/Kathmandu", "Local", "", "Europe/../etc/passwd", "/etc/localtime", "EST5EDT", "Etc/GMT+14", "africa/lagos"} {
		f.Add(tz)
	}
	f.Fuzz(func(t *testing.T, tz string) {
		userOK := fe.call(t, "Users().Identify", func() error {
			_, err := fe.Users().Identify(fe.ctx, UserInput{ID: "tz-user", TZ: tz})
			return err
		})
		boardOK := fe.call(t, "Leaderboards().Patch", func() error {
			_, err := fe.Leaderboards().Patch(fe.ctx, "tz-board", func(b *Leaderboard) { b.TZ = tz })
			return err
		})
		if userOK != boardOK {
			t.Fatalf("zone %q: accepted for a user %v, for a board %v", tz, userOK, boardOK)
		}
		if !userOK || tz == "" {
			return
		}
		if _, err := time.LoadLocation(tz); err != nil {
			t.Fatalf("zone %q accepted but does not load: %v", tz, err)
		}
		u, err := fe.Users().Get(fe.ctx, "tz-user")
		mustCall(t, "Users().Get", err)
		got, err := fe.Leaderboards().Get(fe.ctx, "tz-board")
		mustCall(t, "Leaderboards().Get", err)
		if u.TZ != tz || got.TZ != tz {
			t.Fatalf("zone %q stored as %q for the user, %q for the board", tz, u.TZ, got.TZ)
		}
	})
}

// FuzzUserStateRecord: a corrupt user state record is an error, never a
// panic; a decoded one encodes back to a record that decodes equal, and the
// fast board scan Open uses agrees with the full decoder. The seeds are the
// records of an engine that used every feature.
func FuzzUserStateRecord(f *testing.F) {
	fe := newFuzzEngine(f, fuzzSetup)
	ctx := fe.ctx
	for i, u := range []string{"ana", "bo", "cy"} {
		_, err := fe.Users().Identify(ctx, UserInput{ID: u, TZ: "America/New_York", Attributes: map[string]string{"tier": "gold"}})
		if err != nil {
			f.Fatal(err)
		}
		for d := range 3 + i {
			_, err := fe.Track(ctx, Event{Metric: "xp", User: u, Value: float64(4 + d), Time: fuzzNow.Add(-time.Duration(d) * 24 * time.Hour)})
			if err != nil {
				f.Fatal(err)
			}
		}
	}
	_ = fe.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.State, nil, func(_, v []byte) error { f.Add(bytes.Clone(v)); return nil })
	})
	f.Add([]byte{stateVersion})
	f.Add([]byte{stateVersion, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s userState
		if s.unmarshal(b) != nil {
			return
		}
		var again userState
		enc := s.marshal(nil)
		if err := again.unmarshal(enc); err != nil {
			t.Fatalf("re-decoding an encoded record: %v", err)
		}
		if !reflect.DeepEqual(s.marshal(nil), again.marshal(nil)) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", s, again)
		}
		var boards []userBoard
		if err := scanBoards(b, func(ub userBoard, group []byte) { ub.Group = string(group); boards = append(boards, ub) }); err != nil {
			t.Fatalf("scanBoards fails on a record unmarshal accepts: %v", err)
		}
		if !reflect.DeepEqual(boards, s.Boards) {
			t.Fatalf("scanBoards read %+v, unmarshal %+v", boards, s.Boards)
		}
	})
}

// An idempotency record stored without a fingerprint (before they were
// stored) matches any payload: it replays, as it did when it was written.
func TestIdemRecordWithoutFingerprintReplays(t *testing.T) {
	r, err := decodeIdem(binary.AppendVarint(binary.AppendUvarint(nil, 42), fuzzNow.UnixNano()))
	if err != nil || r.seq != 42 || r.at != fuzzNow.UnixNano() || r.timed {
		t.Fatalf("decoded %+v, %v", r, err)
	}
	ev := validEvent{Event: Event{Time: fuzzNow}, value: AmountFromInt(1), at: fuzzNow}
	if !r.matchesEvent(eventFingerprint(&ev), &ev) || !r.matches(claimFingerprint) {
		t.Fatal("a record without a fingerprint conflicts")
	}
	head := binary.AppendVarint(binary.AppendUvarint(nil, 42), 0)
	for _, b := range [][]byte{
		slices.Concat(head, []byte{1}),                   // a partial fingerprint
		slices.Concat(head, []byte{1, 2, 3, 4, 5, 6, 7}), // a partial fingerprint
		append(encodeIdem(idemVal{}), 0x80),              // a truncated event time
		append(encodeIdem(idemVal{timed: true}), 0),      // a trailing byte
	} {
		if _, err := decodeIdem(b); err == nil {
			t.Fatalf("%x decodes", b)
		}
	}
}

// FuzzSmallRecords: idempotency records and day-aggregate keys round-trip,
// and corrupt ones are errors, never panics.
func FuzzSmallRecords(f *testing.F) {
	f.Add(encodeIdem(idemVal{seq: 42, at: fuzzNow.UnixNano(), fp: 0xfeedface}), uint64(7), uint32(3), int32(20520))
	f.Add(encodeIdem(idemVal{seq: 42, at: fuzzNow.UnixNano(), fp: 0xfeedface, eventAt: fuzzNow.UnixNano() - 1, timed: true}), uint64(7), uint32(3), int32(20520))
	f.Add(binary.AppendVarint(binary.AppendUvarint(nil, 42), fuzzNow.UnixNano()), uint64(7), uint32(3), int32(20520)) // without a fingerprint
	f.Add([]byte{0x80}, uint64(0), uint32(0), int32(math.MinInt32))
	f.Add([]byte{}, uint64(math.MaxUint64), uint32(math.MaxUint32), int32(math.MaxInt32))
	f.Fuzz(func(t *testing.T, b []byte, uid uint64, ref uint32, day int32) {
		if r, err := decodeIdem(b); err == nil {
			if r2, err := decodeIdem(encodeIdem(r)); err != nil || r2 != r {
				t.Fatalf("idempotency record %+v round-trips to %+v, %v", r, r2, err)
			}
		}
		k := dailyKey(uid, ref, day)
		if u, r, d, ok := parseDailyKey(k[:]); !ok || u != uid || r != ref || d != day {
			t.Fatalf("day key %d/%d/%d parses as %d/%d/%d", uid, ref, day, u, r, d)
		}
		if _, _, _, ok := parseDailyKey(b); ok != (len(b) == len(k)) {
			t.Fatalf("parseDailyKey of %d bytes: ok %v", len(b), ok)
		}
		if len(b) == len(k) { // day keys sort by day within a user and metric
			_, _, d, _ := parseDailyKey(b)
			if d != day {
				k2 := dailyKey(binary.BigEndian.Uint64(b), binary.BigEndian.Uint32(b[8:]), day)
				if (bytes.Compare(b, k2[:]) < 0) != (d < day) {
					t.Fatalf("day %d sorts on the wrong side of day %d", d, day)
				}
			}
		}
	})
}

// FuzzStoredDefinition: Open loads every stored definition (JSON) into the
// catalog; a damaged one must make that fail, never panic. The target puts
// one fuzzed definition record among the valid ones of an engine that used
// every kind, loads the catalog, and asks each board for its current run and
// builds its index. A failure must wrap ErrCorrupt. (A damaged huge "Ref"
// once made the catalog's loops over refs run for ever; loadCatalog now
// refuses refs above maxDefinitionRef. A board's bad order once made
// leaderboard.New panic when Open built the indexes.)
func FuzzStoredDefinition(f *testing.F) {
	fe := newFuzzEngine(f, fuzzSetup)
	_, err := fe.Rewards().Create(fe.ctx, Reward{Key: "mug", Name: "Mug", Type: RewardPhysical, Cost: AmountFromInt(5), System: "coins"})
	if err != nil {
		f.Fatal(err)
	}
	_, err = fe.Leaderboards().Create(fe.ctx, Leaderboard{Key: "cron", Name: "Cron", RankBy: RankByScore, RunCron: "0 9 * * MON", TZ: "Asia/Tokyo",
		Window: DailyWindow{From: "08:00", To: "20:00"}})
	if err != nil {
		f.Fatal(err)
	}
	db, err := store.Open(filepath.Join(f.TempDir(), "defs.db"), store.Options{LockTimeout: time.Second, NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	base := map[string][]byte{}
	err = fe.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.Definitions, nil, func(k, v []byte) error {
			base[string(k)] = bytes.Clone(v)
			f.Add(string(k), bytes.Clone(v))
			return nil
		})
	})
	if err == nil {
		err = db.Update(func(tx *store.Tx) error {
			for k, v := range base {
				if err := tx.Put(store.Definitions, []byte(k), v); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		f.Fatal(err)
	}
	f.Add("leaderboard/x", []byte(`{"Key":"x","RunEvery":-3,"Unit":200,"TZ":"Nowhere","Activated":true,"Ref":9}`))
	f.Add("metric/y", []byte(`{"Key":"y","Ref":0}`))
	f.Add("leaderboard/x", []byte(`{"Key":"x","Ref":4294967295}`)) // refused: loops over refs would not end
	f.Add("leaderboard/cron", bytes.Replace(base["leaderboard/cron"], []byte(`"Order":"desc"`), []byte(`"Order":"dosc"`), 1))
	f.Add("mystery/x", []byte(`{}`))
	f.Fuzz(func(t *testing.T, key string, v []byte) {
		if key == "" || len(key) > 1000 {
			return
		}
		put := func(v []byte) {
			err := db.Update(func(tx *store.Tx) error {
				if v == nil {
					return tx.Delete(store.Definitions, []byte(key))
				}
				return tx.Put(store.Definitions, []byte(key), v)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		put(v)
		defer put(base[key]) // the valid record, or none
		_ = db.View(func(tx *store.Tx) error {
			c, err := loadCatalog(tx, time.UTC)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%q: %v does not wrap ErrCorrupt", key, err)
				}
				return nil
			}
			for _, b := range c.boards {
				b.runAt(fuzzNow)
				leaderboard.New(b.order)
			}
			return nil
		})
	})
}

// fuzzAmount turns a fuzzed float into an Amount; NaN, ±Inf and values out of
// range become 0, which definitions refuse as they would any other bad value.
func fuzzAmount(v float64) Amount {
	a, _ := AmountFromFloat(v)
	return a
}
