package gamify

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// A logged command applied to the same state gives the same outcome. These
// tests apply one encoded record to two engines set up alike and compare
// what the command generated: a code drawn inside apply would differ.

// twins opens two engines on the same clock and runs setup on each.
func twins(t *testing.T, start time.Time, setup func(e *Engine)) [2]*Engine {
	t.Helper()
	var out [2]*Engine
	for i := range out {
		e, err := Open(filepath.Join(t.TempDir(), "t.db"), &Options{Clock: NewManualClock(start)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		setup(e)
		out[i] = e
	}
	return out
}

// applyRecord encodes c at now, then decodes and applies the record on e.
func applyRecord(t *testing.T, e *Engine, c command, now time.Time) any {
	t.Helper()
	rec, err := encodeCommand(nil, c, now)
	if err != nil {
		t.Fatal(err)
	}
	d, at, err := decodeCommand(rec)
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.exec(context.Background(), at, d)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestClaimCodesComeFromTheCommand(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	engs := twins(t, now, func(e *Engine) {
		must(e.Rewards().Create(ctx, Reward{Key: "gift", Name: "Gift", Type: RewardDigital, PerUserLimit: RewardUnlimited}))
	})
	seed := newCodeSeed()
	var codes [2]string
	for i, e := range engs {
		codes[i] = applyRecord(t, e, claimOp.cmd(claimArgs{Reward: "gift", User: "ann", Seed: seed}), now).(Claim).Code
	}
	if codes[0] == "" || codes[0] != codes[1] {
		t.Fatalf("the same claim generated codes %q and %q", codes[0], codes[1])
	}
	again := applyRecord(t, engs[0], claimOp.cmd(claimArgs{Reward: "gift", User: "ann", Seed: newCodeSeed()}), now).(Claim).Code
	if again == codes[0] || len(again) != len(codes[0]) {
		t.Fatalf("another seed generated %q after %q", again, codes[0])
	}
}

// A milestone reached as time passes (an event dated ahead of its day, the
// day then beginning) claims its reward in the streak period-end command.
func TestMilestoneCodesComeFromTheCommand(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 3, 8, 23, 58, 0, 0, time.UTC)
	next := start.Add(5 * time.Minute) // 00:03, 9 March
	engs := twins(t, start, func(e *Engine) {
		must(e.Metrics().Create(ctx, Metric{Key: "lessons", Name: "Lessons"}))
		must(e.Rewards().Create(ctx, Reward{Key: "badge", Name: "Badge", Type: RewardDigital}))
		must(e.Streaks().Create(ctx, Streak{Key: "daily", Name: "Daily", Frequency: StreakDaily,
			Metrics:    []StreakMetric{{Metric: "lessons", Min: AmountFromInt(1)}},
			Milestones: []StreakMilestone{{Length: 1, Reward: "badge"}}}))
		must(e.Track(ctx, Event{Metric: "lessons", User: "ann", Value: 1, Time: start.Add(4 * time.Minute)}))
	})
	seed := newCodeSeed()
	var codes [2]string
	for i, e := range engs {
		if cs := must(e.Users().Claims(ctx, "ann")); len(cs) != 0 {
			t.Fatalf("claims before the day began: %v", cs)
		}
		id := streakDueID(e.cat.Load().streaks["daily"].ref, "ann")
		applyRecord(t, e, advanceStreaksOp.cmd(dueArgs{IDs: []string{id}, Seed: seed}), next)
		cs := must(e.Users().Claims(ctx, "ann"))
		if len(cs) != 1 {
			t.Fatalf("engine %d: claims = %v, want the milestone's", i, cs)
		}
		codes[i] = cs[0].Code
	}
	if codes[0] == "" || codes[0] != codes[1] {
		t.Fatalf("the same period end generated codes %q and %q", codes[0], codes[1])
	}
}

// A job command names its job; one the engine does not know fails clearly
// and changes nothing.
func TestJobCommandsOfUnknownJobsFail(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	e := twins(t, now, func(*Engine) {})[0]
	before := DumpStore(e)
	_, err := e.exec(ctx, now, runJobOp.cmd(runJobArgs{Job: "nightly", Due: now}))
	if err == nil || !strings.Contains(err.Error(), "job nightly is not registered") {
		t.Fatalf("run of an unknown job: err = %v", err)
	}
	_, err = e.exec(ctx, now, registerJobOp.cmd("nightly"))
	if err == nil || !strings.Contains(err.Error(), "job nightly is unknown") {
		t.Fatalf("register of an unknown job: err = %v", err)
	}
	if after := DumpStore(e); !reflect.DeepEqual(before, after) {
		t.Fatal("a failed job command changed the store")
	}
}

// The runtime ops, applied as records to two engines set up alike (a daily
// score board with runs, so that job and submit records apply too), leave
// byte-identical stores.
func TestRuntimeRecordsReplayToTheSameStore(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	yes := true
	engs := twins(t, now, func(e *Engine) {
		must(e.Metrics().Create(ctx, Metric{Key: "xp", Name: "XP"}))
		must(e.Points().Create(ctx, PointsSystem{Key: "coins", Name: "Coins"}))
		must(e.Points().Levels("coins").Create(ctx, Level{Key: "bronze", Level: 1, Name: "Bronze"}))
		must(e.Streaks().Create(ctx, Streak{Key: "daily", Name: "Daily", Frequency: StreakDaily,
			Metrics: []StreakMetric{{Metric: "xp", Min: AmountFromInt(1)}}}))
		must(e.Achievements().Create(ctx, Achievement{Key: "hello", Name: "Hello", Kind: AchievementManual}))
		must(e.Rewards().Create(ctx, Reward{Key: "gift", Name: "Gift", Type: RewardDigital, PerUserLimit: RewardUnlimited}))
		must(e.Rewards().Create(ctx, Reward{Key: "tee", Name: "Tee", Type: RewardCoupon, PerUserLimit: RewardUnlimited}))
		must(e.Leaderboards().Create(ctx, Leaderboard{Key: "cup", Name: "Cup", RankBy: RankByScore, RunEvery: 1, RunUnit: RunDay}))
	})
	day := func(d int) Date { return Date{Year: 2026, Month: time.March, Day: d} }
	records := []command{
		upsertOp.cmd(upsertArgs{Verb: "create", User: UserInput{ID: "ann", Name: "Ann", TZ: "Europe/Paris", SubscribeToEmails: &yes, Email: "ann@example.com"}}),
		upsertOp.cmd(upsertArgs{Verb: "identify", User: UserInput{ID: "bob", DeviceTokens: []string{"t1"}}}),
		setPreferencesOp.cmd(preferencesArgs{User: "bob", Base: string(must(json.Marshal(defaultPreferences()))),
			Preferences: Preferences{Notifications: map[NotificationType][]Channel{NotifyRecap: {ChannelPush}}}}),
		awardOp.cmd(PointsEntry{System: "coins", User: "ann", Amount: AmountFromInt(50), Reason: "welcome", IdempotencyKey: "w1"}),
		spendOp.cmd(PointsEntry{System: "coins", User: "ann", Amount: AmountFromInt(20)}),
		pinLevelOp.cmd(levelArgs{System: "coins", User: "ann", Level: "bronze"}),
		unpinLevelOp.cmd(levelArgs{System: "coins", User: "ann"}),
		addCodesOp.cmd(addCodesArgs{Reward: "tee", Codes: []string{"T1", "T2"}}),
		claimOp.cmd(claimArgs{Reward: "tee", User: "ann", Seed: newCodeSeed()}),
		claimOp.cmd(claimArgs{Reward: "gift", User: "bob", IdempotencyKey: "g1", Seed: newCodeSeed()}),
		completeOp.cmd(ManualCompletion{Achievement: "hello", User: "cid", Profile: &UserInput{Name: "Cid"}}),
		streakUsersOp.cmd(streakUsersArgs{Streak: "daily", Verb: "grant_freezes", Users: []string{"ann", "nobody"}, Seed: newCodeSeed()}),
		streakUsersOp.cmd(streakUsersArgs{Streak: "daily", Verb: "restore", Users: []string{"bob"}, Seed: newCodeSeed()}),
		addPauseOp.cmd(pauseArgs{Streak: "daily", User: "ann", From: day(10), To: day(12)}),
		removePauseOp.cmd(pauseArgs{Streak: "daily", User: "ann", ID: 1}),
		submitOp.cmd(ScoreSubmission{Board: "cup", User: "ann", Score: AmountFromInt(7)}),
		addConsumerOp.cmd("mail"),
		ackOp.cmd(ackArgs{Consumer: "mail", Seq: 1}),
		addConsumerOp.cmd("push"),
		deleteConsumerOp.cmd("push"),
		setActiveOp.cmd(activeArgs{User: "bob", Active: false}),
		anonymizeOp.cmd("cid"),
	}
	for _, e := range engs {
		for i, c := range records {
			applyRecord(t, e, c, now.Add(time.Duration(i)*time.Second))
		}
		// The board's day ends: its rollover is a job record.
		applyRecord(t, e, runJobOp.cmd(runJobArgs{Job: "leaderboard/cup", Due: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)}), now.Add(12*time.Hour))
	}
	a, b := DumpStore(engs[0]), DumpStore(engs[1])
	for k, v := range a {
		if b[k] != v {
			t.Errorf("key %q differs:\n%q\n%q", k, v, b[k])
		}
	}
	if len(a) != len(b) {
		t.Errorf("%d keys against %d", len(a), len(b))
	}
}
