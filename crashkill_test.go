package gamify_test

// TestCrashKill is the SIGKILL crash harness (issue #10).
//
// Protocol. For each durability mode the parent keeps one database file and
// runs rounds on it, so state accumulates across kills. In a round it
// re-executes this test binary as a child (TestMain dispatches on
// crashKillChildEnv) that opens the file with a ManualClock, sets up the
// definitions if they are missing (a metric points trigger, a daily streak,
// a metric leaderboard with daily runs, a reward with a cost and a per-user
// limit; a new reward every ckRewardRounds rounds, so that claims keep
// succeeding as rounds accumulate), writes "S" to its side log, and then runs a workload drawn from the
// round's seed: events with idempotency keys (two metrics, six users, values
// such as 0.1 and 2.3), manual awards and spends, reward claims, retries of
// acknowledged keys, admin changes (metrics, achievements, boards) and
// RunDue, moving the clock by minutes, sometimes hours, before each
// operation. One producer, one operation at a time. The side log (one line
// per record, one write(2) per line) holds:
//
//	S                                     the definitions are in place
//	T <unixnano>                          the clock is about to move there
//	I <n> <kind> <user> <metric> <key> <amount> <unixnano>   operation n starts
//	A <n> <replayed> <v1> <v2> <v3>       it returned nil (fsynced before op n+1)
//	F <n> <insufficient|conflict>         it returned an expected error
//
// An "I" line without an outcome is the operation in flight at the kill.
// The parent kills the child (SIGKILL) after a random moment — during start-up,
// after a random number of acknowledgements, or 20–200 ms into the workload —
// reopens the file at the last logged clock time and checks:
//   - Engine.Check passes, before and after the verification;
//   - every result the child was given matches a model of the workload
//     (totals, balances, replay flags, claim ids; expected failures are
//     exactly the predicted ones);
//   - re-issuing every acknowledged operation with its idempotency key: in
//     Durable mode each one reports a replay; in Buffered mode the replayed
//     ones form a prefix of the acknowledged sequence (the in-flight
//     operation last), only events may be lost, and nothing acknowledged
//     before a commit-waiting operation (award, spend, claim, admin) is lost;
//   - the state read before the re-issue (metric totals and event counts,
//     points total/spent/available, claims, the daily board's current run)
//     equals the model of the surviving prefix, plus the in-flight operation
//     when its re-issue reports a replay; the state after it equals the model
//     of every successful operation, each applied exactly once;
//   - acknowledged admin changes exist.
//
// -kills=N sets the number of rounds (split between the modes) and
// -killseed=S fixes the base seed; a failure logs the seed and the round.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

var (
	crashKills    = flag.Int("kills", 50, "SIGKILL rounds of TestCrashKill, split between Durable and Buffered")
	crashKillSeed = flag.Int64("killseed", 0, "base seed of TestCrashKill (0: from the time)")
)

// crashKillChildEnv makes the test binary run TestCrashKill's child; its
// value is the child's JSON configuration.
const crashKillChildEnv = "GAMIFY_CRASHKILL_CHILD"

// The workload's definitions.
const (
	ckSystem  = "coins"
	ckTrigger = "xp-coins"
	ckBoard   = "daily"
	ckStreak  = "daily-xp"
	ckLimit   = 6 // claims of a reward per user
	// ckRewardRounds is how many rounds claim one reward before the next
	// round's child defines a new one: with one reward for the whole run,
	// nearly every claim after the first rounds failed at the per-user
	// limit. About 45 claims over six users per reward reach the limit
	// sometimes, not mostly.
	ckRewardRounds = 4
	// ckMinClaimShare is the least share of claims with an outcome that
	// must succeed.
	ckMinClaimShare = 0.5
)

var (
	ckUsers      = []string{"u0", "u1", "u2", "u3", "u4", "u5"}
	ckMetrics    = []string{"xp", "gems"}
	ckCost       = gamify.AmountFromInt(3)
	ckTrigEvery  = gamify.AmountFromInt(5) // the trigger pays ckTrigPoints every 5 xp
	ckTrigPoints = gamify.AmountFromInt(2)
	ckEvents     = []gamify.Amount{gamify.MustParseAmount("0.5"), gamify.AmountFromInt(1), gamify.MustParseAmount("1.25"), gamify.AmountFromInt(2), gamify.MustParseAmount("0.1"), gamify.MustParseAmount("2.3"), gamify.MustParseAmount("0.125"), gamify.AmountFromInt(10)}
	ckAwards     = []gamify.Amount{gamify.AmountFromInt(1), gamify.MustParseAmount("2.5"), gamify.AmountFromInt(5), gamify.MustParseAmount("0.75")}
	ckSpends     = []gamify.Amount{gamify.AmountFromInt(1), gamify.AmountFromInt(3), gamify.MustParseAmount("4.5"), gamify.MustParseAmount("0.25")}
)

// ckConfig is what the parent tells a child.
type ckConfig struct {
	DB, Log  string
	Buffered bool
	Seed     int64
	Start    int64 // the clock, unix nanoseconds
	Round    int
}

// ckOp is one operation of the workload. Kinds: event, award, spend, claim
// (idempotent, keyed), dup-<kind> (a retry of an acknowledged one), metric,
// achievement, board (admin changes, key is the new definition's key) and
// rundue.
type ckOp struct {
	n      int
	kind   string
	user   string
	metric string
	key    string
	amount gamify.Amount
	at     int64

	// From the log, in the parent.
	state byte // 'A' acknowledged, 'F' failed, 'I' in flight
	ack   ckAck
	class string
}

// ckAck is an operation's result: event {total}, award/spend {total, spent,
// available}, claim {seq, cost}, rundue {jobs}.
type ckAck struct {
	replayed bool
	v        [3]int64
}

// ckReward is the reward the claims of a round go to; a claim carries it in
// its metric field.
func ckReward(round int) string { return fmt.Sprintf("badge-%d", round/ckRewardRounds) }

func (op *ckOp) idempotent() bool {
	switch op.kind {
	case "event", "award", "spend", "claim":
		return true
	}
	return false
}

func (op *ckOp) admin() bool {
	switch op.kind {
	case "metric", "achievement", "board":
		return true
	}
	return false
}

func (op *ckOp) String() string {
	return fmt.Sprintf("op %d %s user=%s metric=%s key=%s amount=%v at=%s", op.n, op.kind, op.user, op.metric, op.key,
		op.amount, time.Unix(0, op.at).UTC().Format(time.RFC3339))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func undash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

// ckDo runs op on eng. at, if set, dates an event (the parent's re-issues
// keep the original time).
func ckDo(ctx context.Context, eng *gamify.Engine, op *ckOp, at time.Time) (ckAck, error) {
	kind := strings.TrimPrefix(op.kind, "dup-")
	switch kind {
	case "event":
		r, err := eng.Track(ctx, gamify.Event{Metric: op.metric, User: op.user, Value: op.amount.Float64(), IdempotencyKey: op.key, Time: at})
		return ckAck{replayed: r.IdempotentReplayed, v: [3]int64{r.Total.Micros()}}, err
	case "award", "spend":
		var r gamify.PointsResult
		var err error
		if kind == "award" {
			r, err = eng.Points().Award(ctx, gamify.PointsEntry{System: ckSystem, User: op.user, Amount: op.amount, IdempotencyKey: op.key, Reason: "crash harness"})
		} else {
			r, err = eng.Points().Spend(ctx, gamify.PointsEntry{System: ckSystem, User: op.user, Amount: op.amount, IdempotencyKey: op.key})
		}
		return ckAck{replayed: r.IdempotentReplayed, v: [3]int64{r.Total.Micros(), r.Spent.Micros(), r.Available.Micros()}}, err
	case "claim":
		c, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: op.metric, User: op.user, IdempotencyKey: op.key})
		return ckAck{replayed: c.IdempotentReplayed, v: [3]int64{int64(c.Seq), c.Cost.Micros()}}, err
	case "metric":
		_, err := eng.Metrics().Create(ctx, gamify.Metric{Key: op.key, Name: op.key})
		return ckAck{}, err
	case "achievement":
		_, err := eng.Achievements().Create(ctx, gamify.Achievement{Key: op.key, Name: op.key, Kind: gamify.AchievementMetric,
			Metric: "xp", Threshold: op.amount})
		return ckAck{}, err
	case "board":
		_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: op.key, Name: op.key, RankBy: gamify.RankByMetric,
			Metric: "gems", RunEvery: 7, RunUnit: gamify.RunDay})
		if err == nil {
			_, err = eng.Leaderboards().Activate(ctx, op.key)
		}
		return ckAck{}, err
	case "rundue":
		n, err := eng.RunDue(ctx)
		return ckAck{v: [3]int64{int64(n)}}, err
	}
	return ckAck{}, fmt.Errorf("unknown op kind %q", op.kind)
}

// ckClass names an expected failure, "" for an unexpected one.
func ckClass(err error) string {
	switch {
	case errors.Is(err, gamify.ErrInsufficientPoints):
		return "insufficient"
	case errors.Is(err, gamify.ErrConflict):
		return "conflict"
	}
	return ""
}

// ckSetup creates what is missing of the definitions; a child killed half-way
// through leaves the rest to the next one.
func ckSetup(ctx context.Context, eng *gamify.Engine, round int) error {
	exists := func(err error) error {
		if errors.Is(err, gamify.ErrConflict) {
			return nil
		}
		return err
	}
	for _, m := range ckMetrics {
		if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: m, Name: m}); exists(err) != nil {
			return err
		}
	}
	if _, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: ckSystem, Name: "Coins"}); exists(err) != nil {
		return err
	}
	if _, err := eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: ckTrigger, System: ckSystem, Kind: gamify.TriggerMetric,
		Metric: "xp", Threshold: ckTrigEvery, Points: ckTrigPoints}); exists(err) != nil {
		return err
	}
	if _, err := eng.Streaks().Create(ctx, gamify.Streak{Key: ckStreak, Name: "Daily XP", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(1)}}, Freezes: gamify.StreakFreezes{Max: 2}}); exists(err) != nil {
		return err
	}
	b, err := eng.Leaderboards().Get(ctx, ckBoard)
	if errors.Is(err, gamify.ErrNotFound) {
		b, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: ckBoard, Name: "Daily XP", RankBy: gamify.RankByMetric,
			Metric: "xp", RunEvery: 1, RunUnit: gamify.RunDay})
	}
	if err != nil {
		return err
	}
	if b.Status == gamify.StatusInactive {
		if _, err := eng.Leaderboards().Activate(ctx, ckBoard); err != nil {
			return err
		}
	}
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: ckReward(round), Name: "Badge", Type: gamify.RewardCoupon, Cost: ckCost,
		System: ckSystem, PerUserLimit: ckLimit})
	return exists(err)
}

// crashKillChild runs the workload until it is killed.
func crashKillChild(spec string) {
	die := func(err error) {
		fmt.Fprintln(os.Stderr, "crashkill child:", err)
		os.Exit(2)
	}
	var c ckConfig
	if err := json.Unmarshal([]byte(spec), &c); err != nil {
		die(err)
	}
	ctx := context.Background()
	clock := gamify.NewManualClock(time.Unix(0, c.Start).UTC())
	opts := gamify.Options{Clock: clock, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if c.Buffered {
		opts.Durability = gamify.Buffered
	}
	// The filter of idempotency keys rebuilt all the time: kills land
	// during rebuilds, and every retry must still find its key.
	gamify.SetIdemFilterKeys(&opts, 64)
	// Kills land before any checkpoint (the whole log replays), between
	// frequent ones and during them (the log trimmed under the workload).
	switch c.Round % 3 {
	case 1:
		opts.CheckpointInterval = 20 * time.Millisecond
	case 2:
		opts.CheckpointSize = 32 << 10
	}
	f, err := os.OpenFile(c.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		die(err)
	}
	// One write(2) per line: what is written survives a SIGKILL; acks are
	// also fsynced, so the record is as durable as the engine's commits.
	write := func(sync bool, format string, args ...any) {
		if _, err := fmt.Fprintf(f, format+"\n", args...); err != nil {
			die(err)
		}
		if sync {
			if err := f.Sync(); err != nil {
				die(err)
			}
		}
	}
	eng, err := gamify.Open(c.DB, &opts)
	if err != nil {
		die(err)
	}
	if err := ckSetup(ctx, eng, c.Round); err != nil {
		die(fmt.Errorf("setup: %w", err))
	}
	write(true, "S")
	rng := rand.New(rand.NewPCG(uint64(c.Seed), uint64(c.Round)))
	var done []ckOp // acknowledged idempotent operations, to retry
	deadline := time.Now().Add(time.Minute)
	for n := 0; time.Now().Before(deadline); n++ {
		d := time.Duration(1+rng.IntN(20)) * time.Minute
		if rng.IntN(30) == 0 {
			d = time.Duration(1+rng.IntN(8)) * time.Hour
		}
		next := clock.Now().Add(d)
		write(false, "T %d", next.UnixNano())
		clock.Set(next)
		op := ckNext(rng, c.Round, n, done)
		op.at = next.UnixNano()
		write(false, "I %d %s %s %s %s %d %d", n, op.kind, dash(op.user), dash(op.metric), dash(op.key), op.amount.Micros(), op.at)
		ack, err := ckDo(ctx, eng, &op, time.Time{})
		if err != nil {
			class := ckClass(err)
			if class == "" || strings.HasPrefix(op.kind, "dup-") || (op.kind != "spend" && op.kind != "claim") {
				die(fmt.Errorf("%s: %w", op.String(), err))
			}
			write(true, "F %d %s", n, class)
			continue
		}
		r := 0
		if ack.replayed {
			r = 1
		}
		write(true, "A %d %d %d %d %d", n, r, ack.v[0], ack.v[1], ack.v[2])
		if op.idempotent() {
			done = append(done, op)
		}
	}
	os.Exit(4) // never killed: the parent reports it
}

// ckNext draws operation n.
func ckNext(rng *rand.Rand, round, n int, done []ckOp) ckOp {
	op := ckOp{n: n, user: ckUsers[rng.IntN(len(ckUsers))], key: fmt.Sprintf("r%d-%d", round, n)}
	switch r := rng.IntN(100); {
	case r < 52:
		op.kind, op.metric, op.amount = "event", "xp", ckEvents[rng.IntN(len(ckEvents))]
		if rng.IntN(4) == 0 {
			op.metric = "gems"
		}
	case r < 64:
		op.kind, op.amount = "award", ckAwards[rng.IntN(len(ckAwards))]
	case r < 74:
		op.kind, op.amount = "spend", ckSpends[rng.IntN(len(ckSpends))]
	case r < 82:
		op.kind, op.metric = "claim", ckReward(round)
	case r < 87 && len(done) > 0:
		op = done[rng.IntN(len(done))]
		op.n, op.kind = n, "dup-"+op.kind
	case r < 89:
		op.user = ""
		switch rng.IntN(3) {
		case 0:
			op.kind, op.key = "metric", fmt.Sprintf("m-r%d-%d", round, n)
		case 1:
			op.kind, op.key, op.amount = "achievement", fmt.Sprintf("a-r%d-%d", round, n), gamify.AmountFromInt(int64(5+rng.IntN(60)))
		default:
			op.kind, op.key = "board", fmt.Sprintf("b-r%d-%d", round, n)
		}
	default:
		op.kind, op.user, op.key = "rundue", "", ""
	}
	return op
}

// ckLog is a parsed side log.
type ckLog struct {
	setup bool
	tMax  int64 // the latest clock time logged
	ops   []*ckOp
}

func ckParse(t *testing.T, data []byte, start int64) ckLog {
	t.Helper()
	l := ckLog{tMax: start}
	// A last line without its newline was cut by the kill: not written.
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		data = data[:i+1]
	}
	num := func(s string) int64 {
		v, err := strconv.ParseInt(s, 10, 64)
		require.NoError(t, err, "side log")
		return v
	}
	var open *ckOp
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		require.NotEmpty(t, f, "side log: empty line")
		switch f[0] {
		case "S":
			l.setup = true
		case "T":
			require.Len(t, f, 2, "side log: %q", line)
			l.tMax = max(l.tMax, num(f[1]))
		case "I":
			require.Len(t, f, 8, "side log: %q", line)
			require.Nil(t, open, "side log: %q starts while %v has no outcome", line, open)
			open = &ckOp{n: int(num(f[1])), kind: f[2], user: undash(f[3]), metric: undash(f[4]), key: undash(f[5]),
				amount: gamify.AmountFromMicros(num(f[6])), at: num(f[7]), state: 'I'}
			l.tMax = max(l.tMax, open.at)
			l.ops = append(l.ops, open)
		case "A", "F":
			require.NotNil(t, open, "side log: %q without an intent", line)
			require.Equal(t, open.n, int(num(f[1])), "side log: %q", line)
			open.state = f[0][0]
			if f[0] == "A" {
				require.Len(t, f, 6, "side log: %q", line)
				open.ack = ckAck{replayed: f[2] == "1", v: [3]int64{num(f[3]), num(f[4]), num(f[5])}}
			} else {
				require.Len(t, f, 3, "side log: %q", line)
				open.class = f[2]
			}
			open = nil
		default:
			t.Fatalf("side log: bad line %q", line)
		}
	}
	return l
}

// ckTotal is a user's total of a metric.
type ckTotal struct {
	Total  gamify.Amount
	Events uint64
}

// ckModel is what the engine must hold after a sequence of operations.
type ckModel struct {
	totals   map[string]ckTotal // by "user metric"
	manual   map[string]gamify.Amount
	spent    map[string]gamify.Amount
	claims   map[string][]uint64 // claim ids by user
	perRew   map[string]int      // claims by "user reward"
	claimSeq map[string]uint64   // claim ids by idempotency key
	xp       []*ckOp             // applied xp events, for the board
	admin    []*ckOp             // acknowledged admin changes
}

func newCkModel() *ckModel {
	return &ckModel{totals: map[string]ckTotal{}, manual: map[string]gamify.Amount{}, spent: map[string]gamify.Amount{},
		claims: map[string][]uint64{}, claimSeq: map[string]uint64{}, perRew: map[string]int{}}
}

func (m *ckModel) clone() *ckModel {
	c := &ckModel{totals: maps.Clone(m.totals), manual: maps.Clone(m.manual), spent: maps.Clone(m.spent),
		claims: map[string][]uint64{}, claimSeq: maps.Clone(m.claimSeq), perRew: maps.Clone(m.perRew), xp: slices.Clone(m.xp), admin: slices.Clone(m.admin)}
	for u, s := range m.claims {
		c.claims[u] = slices.Clone(s)
	}
	return c
}

// points is a user's total, spent and available points: manual awards plus
// what the trigger paid for the user's xp.
func (m *ckModel) points(u string) [3]gamify.Amount {
	pays, _ := ckTrigPoints.MulInt(m.totals[u+" xp"].Total.Micros() / ckTrigEvery.Micros())
	total := m.manual[u].Add(pays)
	return [3]gamify.Amount{total, m.spent[u], total.Sub(m.spent[u])}
}

// limited reports whether a claim would pass the reward's per-user limit.
func (m *ckModel) limited(op *ckOp) bool { return m.perRew[op.user+" "+op.metric] >= ckLimit }

// fails predicts whether a spend or a claim is refused.
func (m *ckModel) fails(op *ckOp) bool {
	avail := m.points(op.user)[2]
	switch op.kind {
	case "spend":
		return avail.Less(op.amount)
	case "claim":
		return m.limited(op) || avail.Less(ckCost)
	}
	return false
}

// apply records a successful operation; ack carries a claim's id.
func (m *ckModel) apply(op *ckOp, ack ckAck) {
	switch op.kind {
	case "event":
		k := op.user + " " + op.metric
		tot := m.totals[k]
		tot.Total = tot.Total.Add(op.amount)
		tot.Events++
		m.totals[k] = tot
		if op.metric == "xp" {
			m.xp = append(m.xp, op)
		}
	case "award":
		m.manual[op.user] = m.manual[op.user].Add(op.amount)
	case "spend":
		m.spent[op.user] = m.spent[op.user].Add(op.amount)
	case "claim":
		m.spent[op.user] = m.spent[op.user].Add(ckCost)
		m.claims[op.user] = append(m.claims[op.user], uint64(ack.v[0]))
		m.perRew[op.user+" "+op.metric]++
		m.claimSeq[op.key] = uint64(ack.v[0])
	case "metric", "achievement", "board":
		m.admin = append(m.admin, op)
	}
}

// ckState is what the parent compares: zero entries are left out.
type ckState struct {
	Metrics map[string]ckTotal
	Points  map[string][3]gamify.Amount
	Claims  map[string][]uint64
	Board   map[string]gamify.Amount // the daily board's run at the clock
}

// expect is the state the model implies, the board for the run [start, end).
func (m *ckModel) expect(start, end time.Time) ckState {
	s := ckState{Metrics: map[string]ckTotal{}, Points: map[string][3]gamify.Amount{}, Claims: map[string][]uint64{}, Board: map[string]gamify.Amount{}}
	for k, v := range m.totals {
		if v.Events > 0 {
			s.Metrics[k] = v
		}
	}
	for _, u := range ckUsers {
		if p := m.points(u); p != ([3]gamify.Amount{}) {
			s.Points[u] = p
		}
		if c := m.claims[u]; len(c) > 0 {
			s.Claims[u] = slices.Sorted(slices.Values(c))
		}
	}
	for _, op := range m.xp {
		at := time.Unix(0, op.at)
		if !at.Before(start) && (end.IsZero() || at.Before(end)) {
			s.Board[op.user] = s.Board[op.user].Add(op.amount)
		}
	}
	return s
}

// ckRead reads the state through the public API, and the board's run.
func ckRead(t *testing.T, ctx context.Context, eng *gamify.Engine) (s ckState, start, end time.Time) {
	t.Helper()
	s = ckState{Metrics: map[string]ckTotal{}, Points: map[string][3]gamify.Amount{}, Claims: map[string][]uint64{}, Board: map[string]gamify.Amount{}}
	for _, u := range ckUsers {
		for _, m := range ckMetrics {
			um, err := eng.Users().Metric(ctx, u, m)
			if errors.Is(err, gamify.ErrNotFound) {
				continue
			}
			require.NoError(t, err)
			if um.Events > 0 || !um.Total.IsZero() {
				s.Metrics[u+" "+m] = ckTotal{um.Total, um.Events}
			}
		}
		up, err := eng.Users().Points(ctx, u, ckSystem)
		if !errors.Is(err, gamify.ErrNotFound) {
			require.NoError(t, err)
			if p := [3]gamify.Amount{up.Total, up.Spent, up.Available}; p != ([3]gamify.Amount{}) {
				s.Points[u] = p
			}
		}
		cs, err := eng.Users().Claims(ctx, u)
		if !errors.Is(err, gamify.ErrNotFound) {
			require.NoError(t, err)
			for _, c := range cs {
				require.Equal(t, u, c.User)
				require.True(t, strings.HasPrefix(c.Reward, "badge-"), "claim of %s", c.Reward)
				require.Equal(t, ckCost, c.Cost)
				s.Claims[u] = append(s.Claims[u], c.Seq)
			}
			slices.Sort(s.Claims[u])
		}
	}
	page, err := eng.Leaderboards().Rankings(ctx, ckBoard, gamify.BoardQuery{Limit: 100})
	require.NoError(t, err)
	require.False(t, page.Finished, "the run at the clock is open")
	require.Len(t, page.Rows, page.Participants)
	for i, r := range page.Rows {
		above := 0
		for _, o := range page.Rows {
			if r.Score.Less(o.Score) {
				above++
			}
		}
		require.Equal(t, above+1, r.Rank, "rank of row %d in %+v", i, page.Rows)
		if i > 0 {
			require.False(t, page.Rows[i-1].Score.Less(r.Score), "standings in order: %+v", page.Rows)
		}
		_, dup := s.Board[r.User]
		require.False(t, dup, "user %s twice on the board", r.User)
		s.Board[r.User] = r.Score
	}
	return s, page.RunStart, page.RunEnd
}

// ckRunner is one durability mode's sequence of rounds on one file.
type ckRunner struct {
	buffered bool
	dir, db  string
	seed     int64
	rng      *rand.Rand
	next     time.Time // the next child's clock
	model    *ckModel
	setup    bool
	kill     string // how the current round's child was killed
	stderr   string // what it wrote to stderr (engine warnings)
	stats    struct {
		acked, lost, inflight, inflightSurvived, inflightApplied, failed, limited, early int
		claimed, claimsRefused                                                           int // claims acknowledged / failed
	}
}

func TestCrashKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes for tens of seconds")
	}
	seed := *crashKillSeed
	if seed == 0 {
		seed = time.Now().UnixNano() % 1_000_000_000
	}
	durable := (*crashKills + 1) / 2
	for _, mode := range []struct {
		name     string
		buffered bool
		rounds   int
	}{{"Durable", false, durable}, {"Buffered", true, *crashKills - durable}} {
		t.Run(mode.name, func(t *testing.T) {
			if mode.rounds == 0 {
				t.Skip("no rounds")
			}
			dir := t.TempDir()
			r := &ckRunner{buffered: mode.buffered, dir: dir, db: filepath.Join(dir, "kill.db"), seed: seed,
				rng: rand.New(rand.NewPCG(uint64(seed), 1+uint64(len(mode.name)))), model: newCkModel(),
				next: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
			round := 0
			defer func() {
				if t.Failed() {
					t.Logf("%s: failed in round %d of %d (kill %s, child seed %d); reproduce the workloads with -killseed=%d",
						mode.name, round, mode.rounds, r.kill, r.seed+int64(round), seed)
					if r.stderr != "" {
						t.Logf("the child's stderr:\n%s", r.stderr)
					}
				}
			}()
			begin := time.Now()
			for round = 0; round < mode.rounds; round++ {
				r.round(t, round)
			}
			t.Logf("%s: %d kills in %v (seed %d): %d acknowledged ops, %d expected failures (%d at the claim limit), %d acknowledged events lost, "+
				"%d ops in flight (%d had been applied, %d applied by the retry), %d kills before the workload",
				mode.name, mode.rounds, time.Since(begin).Round(time.Millisecond), seed, r.stats.acked, r.stats.failed, r.stats.limited, r.stats.lost,
				r.stats.inflight, r.stats.inflightSurvived, r.stats.inflightApplied-r.stats.inflightSurvived, r.stats.early)
			claims := r.stats.claimed + r.stats.claimsRefused
			t.Logf("%s: %d of %d claims succeeded, %d failed at the per-user limit", mode.name, r.stats.claimed, claims, r.stats.limited)
			if claims >= 20 {
				require.GreaterOrEqual(t, float64(r.stats.claimed), ckMinClaimShare*float64(claims),
					"most claims must succeed, or the harness stops exercising them")
			}
		})
	}
}

// round runs a child, kills it and verifies the file.
func (r *ckRunner) round(t *testing.T, round int) {
	ctx := context.Background()
	logPath := filepath.Join(r.dir, fmt.Sprintf("ops-%03d.log", round))
	cfg := ckConfig{DB: r.db, Log: logPath, Buffered: r.buffered, Seed: r.seed + int64(round), Start: r.next.UnixNano(), Round: round}
	spec, err := json.Marshal(cfg)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashKillChildEnv+"="+string(spec))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() { _ = cmd.Process.Kill(); <-exited }() // on a failed require

	// poll waits until the side log satisfies cond, failing if the child
	// exits by itself.
	poll := func(what string, cond func([]byte) bool) {
		limit := time.Now().Add(time.Minute)
		for {
			select {
			case <-exited:
				t.Fatalf("the child exited by itself (%v) waiting for %s; stderr:\n%s", cmd.ProcessState, what, stderr.String())
			default:
			}
			if b, _ := os.ReadFile(logPath); cond(b) {
				return
			}
			require.True(t, time.Now().Before(limit), "timed out waiting for %s", what)
			time.Sleep(time.Millisecond)
		}
	}
	setupDone := func(b []byte) bool { return bytes.HasPrefix(b, []byte("S\n")) }
	var kill string
	switch k := r.rng.IntN(20); {
	case k < 2: // any moment, start-up included
		d := time.Duration(r.rng.IntN(150)) * time.Millisecond
		kill = fmt.Sprintf("%v after the start", d)
		time.Sleep(d)
	case k < 11: // after a number of acknowledgements
		n := 1 + r.rng.IntN(150)
		kill = fmt.Sprintf("after %d acks", n)
		poll("the setup", setupDone)
		poll(kill, func(b []byte) bool { return bytes.Count(b, []byte("\nA ")) >= n })
	default: // a random moment into the workload
		d := time.Duration(20+r.rng.IntN(181)) * time.Millisecond
		kill = fmt.Sprintf("%v into the workload", d)
		poll("the setup", setupDone)
		time.Sleep(d)
	}
	r.kill = kill
	if err := cmd.Process.Kill(); !errors.Is(err, os.ErrProcessDone) {
		require.NoError(t, err)
	} // else the child exited by itself: the exit code check below shows its stderr
	<-exited
	r.stderr = stderr.String()
	require.Equal(t, -1, cmd.ProcessState.ExitCode(), "the child must die of the kill, not exit (%v); stderr:\n%s", cmd.ProcessState, stderr.String())

	data, err := os.ReadFile(logPath)
	if !errors.Is(err, os.ErrNotExist) {
		require.NoError(t, err)
	}
	l := ckParse(t, data, cfg.Start)
	r.verify(t, ctx, l, kill)
	r.next = time.Unix(0, l.tMax).UTC().Add(time.Duration(1+r.rng.IntN(180)) * time.Minute)
}

// verify reopens the file after a kill and checks it against the log.
func (r *ckRunner) verify(t *testing.T, ctx context.Context, l ckLog, kill string) {
	clock := gamify.NewManualClock(time.Unix(0, l.tMax).UTC())
	eng, err := gamify.Open(r.db, &gamify.Options{Clock: clock})
	require.NoError(t, err, "open after the kill (%s)", kill)
	closed := false
	defer func() {
		if !closed {
			_ = eng.Close()
		}
	}()
	require.NoError(t, eng.Check(ctx), "Check after the kill (%s)", kill)
	r.setup = r.setup || l.setup
	if !l.setup {
		r.stats.early++
		require.Empty(t, l.ops, "operations before the setup")
	}
	if !r.setup {
		closed = true
		require.NoError(t, eng.Close())
		return
	}

	// 1. What the child was told matches the model of the workload.
	sim := r.model.clone()
	for _, op := range l.ops {
		switch op.state {
		case 'I':
			r.stats.inflight++
		case 'F':
			r.stats.failed++
			if op.kind == "claim" {
				r.stats.claimsRefused++
				if sim.limited(op) {
					r.stats.limited++
				}
			}
			require.True(t, sim.fails(op), "%v failed (%s) but the model has %v available, %d claims", op, op.class, sim.points(op.user)[2], len(sim.claims[op.user]))
		case 'A':
			r.stats.acked++
			if op.kind == "claim" {
				r.stats.claimed++
			}
			r.checkAck(t, sim, op)
		}
	}

	// 2. The state that survived the kill, before any retry.
	before, start, end := ckRead(t, ctx, eng)

	// 3. Retry every acknowledged operation, and the one in flight, with its
	// key.
	replayed := map[*ckOp]bool{}
	var retried []*ckOp
	for _, op := range l.ops {
		if !op.idempotent() || op.state == 'F' {
			continue
		}
		ack, err := ckDo(ctx, eng, op, time.Unix(0, op.at).UTC())
		if op.state == 'I' {
			if err != nil {
				require.NotEmpty(t, ckClass(err), "retry of the in-flight %v: %v", op, err)
				op.class = ckClass(err)
				continue // refused now, so it was not applied then either (checked below)
			}
			op.ack = ack
		} else {
			require.NoError(t, err, "retry of %v", op)
			if op.kind == "claim" {
				require.Equal(t, op.ack.v[0], ack.v[0], "retry of %v returns the original claim", op)
			}
			if !r.buffered {
				require.True(t, ack.replayed, "Durable: acknowledged %v was lost in the kill (%s)", op, kill)
			}
		}
		replayed[op] = ack.replayed
		retried = append(retried, op)
	}
	// What survived is a prefix of the sequence, the in-flight op last.
	firstLost := -1
	for i, op := range retried {
		if !replayed[op] && firstLost < 0 {
			firstLost = i
		}
		if replayed[op] && firstLost >= 0 {
			require.Failf(t, "not a prefix", "%v survived the kill (%s) but the earlier acknowledged %v was lost", op, kill, retried[firstLost])
		}
		if !replayed[op] && op.state == 'A' {
			r.stats.lost++
			require.Equal(t, "event", op.kind, "Buffered: only events may be lost, not the acknowledged %v", op)
		}
	}
	if firstLost >= 0 {
		// An admin change waits for its commit, which commits what came
		// before it. (Awards, spends and claims wait too: the prefix check
		// covers them.)
		for _, op := range l.ops {
			if op.n > retried[firstLost].n && op.state == 'A' && op.admin() {
				require.Failf(t, "lost before a commit", "Buffered: %v was lost although the later %v waited for its commit (kill %s)", retried[firstLost], op, kill)
			}
		}
	}

	// 4. The surviving state is the model of the surviving prefix.
	exp := r.model.clone()
	for _, op := range l.ops {
		if op.idempotent() && op.state != 'F' && !replayed[op] {
			break
		}
		if op.state == 'A' || (op.state == 'I' && replayed[op]) {
			exp.apply(op, op.ack)
		}
	}
	require.Equal(t, exp.expect(start, end), before, "the state that survived the kill (%s)", kill)

	// 5. After the retries every successful operation counts exactly once.
	fin := r.model.clone()
	for _, op := range l.ops {
		switch {
		case op.state == 'A':
			fin.apply(op, op.ack)
		case op.state == 'I' && op.idempotent():
			_, retriedOK := replayed[op]
			require.Equal(t, !fin.fails(op), retriedOK, "the retry of the in-flight %v (error %q) against the model", op, op.class)
			if replayed[op] {
				r.stats.inflightSurvived++
			}
			if retriedOK {
				r.stats.inflightApplied++
				if op.kind == "claim" && replayed[op] {
					// The original claim: its id is new to the model.
					require.NotContains(t, fin.claims[op.user], uint64(op.ack.v[0]))
				}
				fin.apply(op, op.ack)
			}
		}
	}
	for _, op := range fin.admin {
		switch op.kind {
		case "metric":
			_, err = eng.Metrics().Get(ctx, op.key)
		case "achievement":
			_, err = eng.Achievements().Get(ctx, op.key)
		case "board":
			var b gamify.Leaderboard
			b, err = eng.Leaderboards().Get(ctx, op.key)
			if err == nil && b.Status == gamify.StatusInactive {
				err = fmt.Errorf("board %s is inactive", op.key)
			}
		}
		require.NoError(t, err, "acknowledged %v", op)
	}
	after, start2, end2 := ckRead(t, ctx, eng)
	require.Equal(t, [2]time.Time{start, end}, [2]time.Time{start2, end2})
	require.Equal(t, fin.expect(start, end), after, "the state after the retries (kill %s)", kill)
	require.NoError(t, eng.Check(ctx), "Check after the retries")
	closed = true
	require.NoError(t, eng.Close())
	r.model = fin
}

// checkAck checks an acknowledged result against the model and applies it.
func (r *ckRunner) checkAck(t *testing.T, sim *ckModel, op *ckOp) {
	t.Helper()
	ack := op.ack
	base := strings.TrimPrefix(op.kind, "dup-")
	if base != op.kind {
		require.True(t, ack.replayed, "the retry %v in the child reports a replay", op)
	} else if op.idempotent() {
		require.False(t, ack.replayed, "a fresh key is no replay: %v", op)
		require.False(t, sim.fails(op), "%v succeeded but the model has %v available, %d claims", op, sim.points(op.user)[2], len(sim.claims[op.user]))
		sim.apply(op, ack)
	} else {
		sim.apply(op, ack)
	}
	switch base {
	case "event":
		require.Equal(t, sim.totals[op.user+" "+op.metric].Total, gamify.AmountFromMicros(ack.v[0]), "total reported to %v", op)
	case "award", "spend":
		p := sim.points(op.user)
		require.Equal(t, p, [3]gamify.Amount{gamify.AmountFromMicros(ack.v[0]), gamify.AmountFromMicros(ack.v[1]), gamify.AmountFromMicros(ack.v[2])},
			"total, spent, available reported to %v", op)
	case "claim":
		require.Equal(t, ckCost.Micros(), ack.v[1], "cost reported to %v", op)
		require.Equal(t, sim.claimSeq[op.key], uint64(ack.v[0]), "claim id reported to %v", op)
	}
}
