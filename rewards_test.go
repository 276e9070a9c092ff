package gamify_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func rewardEngine(t *testing.T) *testEngine {
	t.Helper()
	ctx := context.Background()
	eng := pointsEngine(t)
	for i := range 120 {
		_, err := eng.Points().Award(ctx, "coins", fmt.Sprintf("u%d", i), gamify.AmountFromInt(100), "", "seed")
		require.NoError(t, err)
	}
	return eng
}

func TestLastCodesAreNeverOversold(t *testing.T) {
	ctx := context.Background()
	eng := rewardEngine(t)
	_, err := eng.Rewards().Create(ctx, gamify.Reward{Key: "tee", Name: "T-shirt", Type: gamify.RewardCoupon, Cost: gamify.AmountFromInt(10), System: "coins", Active: true})
	require.NoError(t, err)
	var codes []string
	for i := range 10 {
		codes = append(codes, fmt.Sprintf("CODE-%02d", i))
	}
	n, err := eng.Rewards().AddCodes(ctx, "tee", append(codes, "CODE-00"))
	require.NoError(t, err)
	require.Equal(t, 10, n, "a duplicate code is skipped")
	var mu sync.Mutex
	got := map[string]bool{}
	out := 0
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			c, err := eng.Rewards().Claim(ctx, "tee", fmt.Sprintf("u%d", i), "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				if got[c.Code] {
					t.Errorf("code %s given twice", c.Code)
				}
				got[c.Code] = true
			case errorsIs(err, gamify.ErrOutOfStock):
				out++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	require.Len(t, got, 10)
	require.Equal(t, 90, out)
	for _, c := range codes {
		require.True(t, got[c])
	}
}

func TestClaimFailuresChangeNothingAndReplay(t *testing.T) {
	ctx := context.Background()
	eng := rewardEngine(t)
	_, err := eng.Rewards().Create(ctx, gamify.Reward{Key: "gift", Name: "Gift card", Type: gamify.RewardVoucher, Cost: gamify.AmountFromInt(60),
		System: "coins", Inventory: 3, Active: true})
	require.NoError(t, err)
	c, err := eng.Rewards().Claim(ctx, "gift", "u1", "k1")
	require.NoError(t, err)
	require.NotEmpty(t, c.Code, "a voucher without loaded codes gets a generated one")
	again, err := eng.Rewards().Claim(ctx, "gift", "u1", "k1")
	require.NoError(t, err)
	require.Equal(t, c.Code, again.Code, "a replay returns the original claim")
	require.True(t, again.Replay)

	before := gamify.DumpStore(eng.Engine)
	_, err = eng.Rewards().Claim(ctx, "gift", "u1", "k2")
	require.ErrorIs(t, err, gamify.ErrConflict, "the per-user limit is 1")
	_, err = eng.Points().Spend(ctx, "coins", "u2", gamify.AmountFromInt(50), "")
	require.NoError(t, err)
	before = gamify.DumpStore(eng.Engine)
	_, err = eng.Rewards().Claim(ctx, "gift", "u2", "")
	require.ErrorIs(t, err, gamify.ErrInsufficientPoints)
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "a failed claim changes nothing")
	for _, u := range []string{"u3", "u4"} {
		_, err := eng.Rewards().Claim(ctx, "gift", u, "")
		require.NoError(t, err)
	}
	before = gamify.DumpStore(eng.Engine)
	_, err = eng.Rewards().Claim(ctx, "gift", "u5", "")
	require.ErrorIs(t, err, gamify.ErrOutOfStock)
	require.Equal(t, before, gamify.DumpStore(eng.Engine))
	_, err = eng.Rewards().Claim(ctx, "nope", "u5", "")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	up, err := eng.Users().Points(ctx, "u1", "coins")
	require.NoError(t, err)
	require.Equal(t, "40", up.Available.String())
	claims, err := eng.Users().Claims(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, claims, 1)
}

func TestPointsMultiplierReward(t *testing.T) {
	ctx := context.Background()
	eng := rewardEngine(t)
	_, err := eng.Points().Triggers().Create(ctx, perUnits("per1", "xp", 1, 1))
	require.NoError(t, err)
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "double", Name: "Double XP", Type: gamify.RewardPointsMultiplier,
		System: "coins", Multiplier: gamify.AmountFromInt(2), Duration: time.Hour, Active: true})
	require.NoError(t, err)
	_, err = eng.Rewards().Claim(ctx, "double", "u1", "")
	require.NoError(t, err)
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "u1", Value: 5})
	require.NoError(t, err)
	require.Equal(t, "10", r.Points[0].Added.String(), "doubled for an hour")
	eng.clock.Advance(time.Hour)
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "u1", Value: 5})
	require.NoError(t, err)
	require.Equal(t, "5", r.Points[0].Added.String(), "and no longer")
}

func TestRewardsAdmin(t *testing.T) {
	ctx := context.Background()
	eng := rewardEngine(t)
	out, issues, err := eng.Rewards().BulkCreate(ctx, []gamify.Reward{
		{Key: "a", Name: "A", Type: gamify.RewardDigital, Active: true},
		{Key: "b", Name: "B", Type: "lollipop"},
		{Key: "c", Name: "C", Type: gamify.RewardPhysical, Cost: gamify.AmountFromInt(1), System: "coins", Active: true},
	})
	require.NoError(t, err)
	require.Len(t, out, 2)
	require.Len(t, issues, 1)
	require.Equal(t, "b", issues[0].Key)
	list, err := eng.Rewards().List(ctx, gamify.RewardPhysical, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	r := out[0]
	r.Name, r.PerUserLimit = "A+", 2
	r, err = eng.Rewards().Update(ctx, r)
	require.NoError(t, err)
	require.Equal(t, 2, r.PerUserLimit)
	for range 2 {
		_, err = eng.Rewards().Claim(ctx, "a", "u1", "")
		require.NoError(t, err)
	}
	_, err = eng.Rewards().Claim(ctx, "a", "u1", "")
	require.ErrorIs(t, err, gamify.ErrConflict)
	require.NoError(t, eng.Rewards().SetActive(ctx, "c", false))
	_, err = eng.Rewards().Claim(ctx, "c", "u1", "")
	require.ErrorIs(t, err, gamify.ErrConflict, "an inactive reward is not claimable")
	list, err = eng.Rewards().List(ctx, "", gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list, 1, "inactive rewards leave the catalogue")
}

// A batch is in the store a moment before the writer hears it committed; a
// claim applied in that window must count the batch's claims once.
func TestClaimLimitInCommitWindow(t *testing.T) {
	ctx := context.Background()
	var armed atomic.Bool
	inWindow, release := make(chan struct{}), make(chan struct{})
	var opts gamify.Options
	gamify.SetAfterCommit(&opts, func() {
		if armed.CompareAndSwap(true, false) {
			inWindow <- struct{}{}
			<-release
		}
	})
	eng := openTest(t, &opts)
	unblock := sync.OnceFunc(func() { close(release) })
	t.Cleanup(unblock) // before the engine's cleanup, so a failure cannot hang Close
	_, err := eng.Rewards().Create(ctx, gamify.Reward{Key: "a", Name: "A", Type: gamify.RewardDigital, PerUserLimit: 2, Active: true})
	require.NoError(t, err)
	// The create's caller is answered before the committer runs the hook for
	// its batch: arm only once that hook has run, or it would catch the create.
	for !gamify.CommitterIdle(eng.Engine) {
		runtime.Gosched()
	}
	armed.Store(true)
	_, err = eng.Rewards().Claim(ctx, "a", "u1", "") // answered once stored, before the writer hears
	require.NoError(t, err)
	<-inWindow
	// Claims wait for their commit, so the second runs aside until it has
	// applied (it sits in the open batch) or failed.
	second := make(chan error, 1)
	go func() { _, err := eng.Rewards().Claim(ctx, "a", "u1", ""); second <- err }()
	for gamify.OpenBatchSize(eng.Engine) == 0 {
		select {
		case err := <-second:
			t.Fatalf("the second claim failed in the window: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	_, err = eng.Rewards().Claim(ctx, "a", "u1", "")
	require.ErrorIs(t, err, gamify.ErrConflict, "the limit still holds")
	unblock()
	require.NoError(t, <-second)
	claims, err := eng.Users().Claims(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, claims, 2)
}
