package gamify_test

import (
	"context"
	"fmt"
	"regexp"
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
		_, err := eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: fmt.Sprintf("u%d", i), Amount: gamify.AmountFromInt(100), Reason: "seed"})
		require.NoError(t, err)
	}
	return eng
}

func TestLastCodesAreNeverOversold(t *testing.T) {
	ctx := context.Background()
	eng := rewardEngine(t)
	_, err := eng.Rewards().Create(ctx, gamify.Reward{Key: "tee", Name: "T-shirt", Type: gamify.RewardCoupon, Cost: gamify.AmountFromInt(10), System: "coins"})
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
			c, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "tee", User: fmt.Sprintf("u%d", i)})
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
		System: "coins", Inventory: 3})
	require.NoError(t, err)
	c, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "gift", User: "u1", IdempotencyKey: "k1"})
	require.NoError(t, err)
	require.NotEmpty(t, c.Code, "a voucher without loaded codes gets a generated one")
	require.Equal(t, "Gift card", c.RewardName)
	require.Equal(t, gamify.RewardVoucher, c.RewardType)
	require.Equal(t, "40", c.Balance.String(), "100 coins less the cost")
	_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "u1", Amount: gamify.AmountFromInt(5), Reason: "later"})
	require.NoError(t, err)
	again, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "gift", User: "u1", IdempotencyKey: "k1"})
	require.NoError(t, err)
	again.IdempotentReplayed = false
	c.IdempotentReplayed = false
	require.Equal(t, c, again, "a replay returns the original claim, its balance included")
	again, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "gift", User: "u1", IdempotencyKey: "k1"})
	require.NoError(t, err)
	require.True(t, again.IdempotentReplayed)

	before := gamify.DumpStore(eng.Engine)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "gift", User: "u1", IdempotencyKey: "k2"})
	require.ErrorIs(t, err, gamify.ErrConflict, "the per-user limit is 1")
	_, err = eng.Points().Spend(ctx, gamify.PointsEntry{System: "coins", User: "u2", Amount: gamify.AmountFromInt(50)})
	require.NoError(t, err)
	before = gamify.DumpStore(eng.Engine)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "gift", User: "u2"})
	require.ErrorIs(t, err, gamify.ErrInsufficientPoints)
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "a failed claim changes nothing")
	for _, u := range []string{"u3", "u4"} {
		_, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "gift", User: u})
		require.NoError(t, err)
	}
	before = gamify.DumpStore(eng.Engine)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "gift", User: "u5"})
	require.ErrorIs(t, err, gamify.ErrOutOfStock)
	require.Equal(t, before, gamify.DumpStore(eng.Engine))
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "nope", User: "u5"})
	require.ErrorIs(t, err, gamify.ErrNotFound)
	up, err := eng.Users().Points(ctx, "u1", "coins")
	require.NoError(t, err)
	require.Equal(t, "45", up.Available.String())
	claims, err := eng.Users().Claims(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, claims, 1)
	require.Equal(t, c, claims[0], "the stored claim has the name, type and balance")
}

func TestPointsMultiplierReward(t *testing.T) {
	ctx := context.Background()
	eng := rewardEngine(t)
	_, err := eng.Points().Triggers().Create(ctx, perUnits("per1", "xp", 1, 1))
	require.NoError(t, err)
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "double", Name: "Double XP", Type: gamify.RewardPointsMultiplier,
		System: "coins", Multiplier: gamify.AmountFromInt(2), Duration: time.Hour})
	require.NoError(t, err)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "double", User: "u1"})
	require.NoError(t, err)
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "u1", Value: 5})
	require.NoError(t, err)
	require.Equal(t, "10", r.Points[0].Added.String(), "doubled for an hour")
	eng.clock.Advance(time.Hour)
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "u1", Value: 5})
	require.NoError(t, err)
	require.Equal(t, "5", r.Points[0].Added.String(), "and no longer")
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
	_, err := eng.Rewards().Create(ctx, gamify.Reward{Key: "a", Name: "A", Type: gamify.RewardDigital, PerUserLimit: 2})
	require.NoError(t, err)
	// The create's caller is answered before the committer runs the hook for
	// its batch: arm only once that hook has run, or it would catch the create.
	for !gamify.CommitterIdle(eng.Engine) {
		runtime.Gosched()
	}
	armed.Store(true)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "a", User: "u1"}) // answered once stored, before the writer hears
	require.NoError(t, err)
	<-inWindow
	// Claims wait for their commit, so the second runs aside until it has
	// applied (it sits in the open batch) or failed.
	second := make(chan error, 1)
	go func() {
		_, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "a", User: "u1"})
		second <- err
	}()
	for gamify.OpenBatchSize(eng.Engine) == 0 {
		select {
		case err := <-second:
			t.Fatalf("the second claim failed in the window: %v", err)
		case <-time.After(time.Millisecond):
		}
	}
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "a", User: "u1"})
	require.ErrorIs(t, err, gamify.ErrConflict, "the limit still holds")
	unblock()
	require.NoError(t, <-second)
	claims, err := eng.Users().Claims(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, claims, 2)
}

func rewardKeys(rs []gamify.Reward) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Key)
	}
	return out
}

func TestRewardsAdmin(t *testing.T) {
	ctx := context.Background()
	eng := rewardEngine(t)
	out, issues, err := eng.Rewards().BulkCreate(ctx, []gamify.Reward{
		{Key: "a", Name: "A", Type: gamify.RewardDigital},
		{Key: "b", Name: "B", Type: "lollipop"},
		{Key: "c", Name: "C", Type: gamify.RewardPhysical, Cost: gamify.AmountFromInt(1), System: "coins"},
		{Key: "a", Name: "A again", Type: gamify.RewardDigital},
		{Key: "d", Name: "D", Type: gamify.RewardPhysical, Status: gamify.StatusInactive},
		{Key: "e", Name: "E", Type: gamify.RewardCoupon, Cost: gamify.AmountFromInt(1), System: "nope"},
	})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "c", "d"}, rewardKeys(out))
	require.Len(t, issues, 3)
	require.Equal(t, 1, issues[0].Index)
	require.Equal(t, "b", issues[0].Key)
	var ve *gamify.ValidationError
	require.ErrorAs(t, issues[0].Err, &ve)
	require.Equal(t, "Reward.Type", ve.Field)
	require.Equal(t, 3, issues[1].Index)
	require.ErrorIs(t, issues[1].Err, gamify.ErrConflict)
	require.Equal(t, 5, issues[2].Index)
	require.ErrorContains(t, issues[2].Err, "Reward.System")
	require.Equal(t, gamify.StatusActive, out[0].Status)
	require.Equal(t, 1, out[0].PerUserLimit, "the default limit")
	require.Equal(t, gamify.StatusInactive, out[2].Status)
	_, _, err = eng.Rewards().BulkCreate(ctx, make([]gamify.Reward, 101))
	require.ErrorIs(t, err, gamify.ErrInvalid)

	// List: creation order, inactive included, by type, paged.
	list, err := eng.Rewards().List(ctx, gamify.RewardListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "c", "d"}, rewardKeys(list))
	list, err = eng.Rewards().List(ctx, gamify.RewardListOptions{Type: gamify.RewardPhysical})
	require.NoError(t, err)
	require.Equal(t, []string{"c", "d"}, rewardKeys(list))
	list, err = eng.Rewards().List(ctx, gamify.RewardListOptions{ListOptions: gamify.ListOptions{Limit: 1, Skip: 1}})
	require.NoError(t, err)
	require.Equal(t, []string{"c"}, rewardKeys(list))
	_, err = eng.Rewards().List(ctx, gamify.RewardListOptions{ListOptions: gamify.ListOptions{Limit: 101}})
	require.ErrorIs(t, err, gamify.ErrInvalid)
	_, err = eng.Rewards().List(ctx, gamify.RewardListOptions{Type: "lollipop"})
	require.ErrorContains(t, err, "RewardListOptions.Type")

	// BulkPatch: per-item issues, only the set fields change.
	patched, issues, err := eng.Rewards().BulkPatch(ctx, []string{"a", "zzz", "c"}, func(r *gamify.Reward) { r.PerUserLimit = 2 })
	require.NoError(t, err)
	require.Equal(t, []string{"a", "c"}, rewardKeys(patched))
	require.Equal(t, 2, patched[1].PerUserLimit)
	require.Equal(t, "1", patched[1].Cost.String(), "kept")
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrNotFound)
	_, issues, err = eng.Rewards().BulkPatch(ctx, []string{"a", "c"}, func(r *gamify.Reward) {
		if r.Key == "c" {
			r.Cost = gamify.AmountFromInt(-1)
		}
	})
	require.NoError(t, err)
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorContains(t, issues[0].Err, "Reward.Cost")
	for range 2 {
		_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "a", User: "u1"})
		require.NoError(t, err)
	}
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "a", User: "u1"})
	require.ErrorIs(t, err, gamify.ErrConflict, "the patched limit holds")

	// BulkDelete archives, reporting missing and archived keys.
	issues, err = eng.Rewards().BulkDelete(ctx, []string{"a", "zzz", "a"})
	require.NoError(t, err)
	require.Len(t, issues, 2)
	require.Equal(t, 1, issues[0].Index)
	require.Equal(t, 2, issues[1].Index)
	require.ErrorIs(t, issues[1].Err, gamify.ErrNotFound, "an archived reward is not deleted again")
	list, err = eng.Rewards().List(ctx, gamify.RewardListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"c", "d"}, rewardKeys(list))
	_, err = eng.Rewards().BulkDelete(ctx, nil)
	require.ErrorIs(t, err, gamify.ErrInvalid)

	eng.reopen(t)
	list, err = eng.Rewards().List(ctx, gamify.RewardListOptions{ListOptions: gamify.ListOptions{IncludeArchived: true}})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "c", "d"}, rewardKeys(list))
	require.Equal(t, gamify.StatusArchived, list[0].Status)
	require.Equal(t, 2, list[1].PerUserLimit)
}

func TestRewardPatchAndLifecycle(t *testing.T) {
	ctx := context.Background()
	eng := rewardEngine(t)
	created, err := eng.Rewards().Create(ctx, gamify.Reward{Key: "mug", Name: "Mug", Description: "A mug", Type: gamify.RewardCoupon,
		Cost: gamify.AmountFromInt(10), System: "coins", PerUserLimit: 3, Inventory: 2, Expires: t0.Add(24 * time.Hour)})
	require.NoError(t, err)
	first, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "mug", User: "u1", IdempotencyKey: "k"})
	require.NoError(t, err)

	// Refused edits name their field and change nothing.
	before := gamify.DumpStore(eng.Engine)
	for field, edit := range map[string]func(*gamify.Reward){
		"Reward.Key":       func(r *gamify.Reward) { r.Key = "cup" },
		"Reward.Status":    func(r *gamify.Reward) { r.Status = gamify.StatusInactive },
		"Reward.Created":   func(r *gamify.Reward) { r.Created = r.Created.Add(time.Hour) },
		"Reward.Updated":   func(r *gamify.Reward) { r.Updated = r.Updated.Add(time.Hour) },
		"Reward.Name":      func(r *gamify.Reward) { r.Name = "" },
		"Reward.Type":      func(r *gamify.Reward) { r.Type = gamify.RewardVoucher },
		"Reward.System":    func(r *gamify.Reward) { r.System = "gems" },
		"Reward.Cost":      func(r *gamify.Reward) { r.Cost = gamify.AmountFromInt(-1) },
		"Reward.Inventory": func(r *gamify.Reward) { r.Inventory = -1 },
	} {
		_, err := eng.Rewards().Patch(ctx, "mug", edit)
		var ve *gamify.ValidationError
		require.ErrorAs(t, err, &ve, field)
		require.Equal(t, field, ve.Field)
	}
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "a refused patch changes nothing")
	_, err = eng.Rewards().Patch(ctx, "nope", func(*gamify.Reward) {})
	require.ErrorIs(t, err, gamify.ErrNotFound)

	eng.clock.Advance(time.Minute)
	r, err := eng.Rewards().Patch(ctx, "mug", func(r *gamify.Reward) { r.Name = "Big mug" })
	require.NoError(t, err)
	want := created
	want.Name, want.Updated = "Big mug", created.Updated.Add(time.Minute)
	require.Equal(t, want, r, "only Name (and Updated) changed")
	got, err := eng.Rewards().Get(ctx, "mug")
	require.NoError(t, err)
	require.Equal(t, r, got)

	// Deactivate: claims are refused, the reward is listed and patchable,
	// Activate undoes it; both are idempotent.
	r, err = eng.Rewards().Deactivate(ctx, "mug")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusInactive, r.Status)
	before = gamify.DumpStore(eng.Engine)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "mug", User: "u2"})
	require.ErrorIs(t, err, gamify.ErrConflict, "an inactive reward cannot be claimed")
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "mug", User: "newbie"})
	require.ErrorIs(t, err, gamify.ErrConflict)
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "nor is its claimer created")
	replay, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "mug", User: "u1", IdempotencyKey: "k"})
	require.NoError(t, err, "a replay still answers")
	require.True(t, replay.IdempotentReplayed)
	require.Equal(t, first.Seq, replay.Seq)
	list, err := eng.Rewards().List(ctx, gamify.RewardListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"mug"}, rewardKeys(list), "inactive rewards are listed")
	r, err = eng.Rewards().Patch(ctx, "mug", func(r *gamify.Reward) { r.Inventory = 5 })
	require.NoError(t, err, "an inactive reward can be patched")
	require.Equal(t, gamify.StatusInactive, r.Status)
	again, err := eng.Rewards().Deactivate(ctx, "mug")
	require.NoError(t, err, "deactivating twice is not an error")
	require.Equal(t, r, again)
	eng.reopen(t)
	r, err = eng.Rewards().Activate(ctx, "mug")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, r.Status)
	again, err = eng.Rewards().Activate(ctx, "mug")
	require.NoError(t, err)
	require.Equal(t, r, again, "activating twice changes nothing")
	c, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "mug", User: "u2"})
	require.NoError(t, err)
	require.Equal(t, "Big mug", c.RewardName)

	// Created inactive: not claimable until activated. Other statuses are refused.
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "later", Name: "Later", Type: gamify.RewardDigital, Status: gamify.StatusInactive})
	require.NoError(t, err)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "later", User: "u1"})
	require.ErrorIs(t, err, gamify.ErrConflict, "created inactive")
	before = gamify.DumpStore(eng.Engine)
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "gone", Name: "Gone", Type: gamify.RewardDigital, Status: gamify.StatusArchived})
	var ve *gamify.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "Reward.Status", ve.Field)
	require.Equal(t, before, gamify.DumpStore(eng.Engine))

	// Delete archives: not claimable, hidden, key not reusable, claims kept.
	require.NoError(t, eng.Rewards().Delete(ctx, "mug"))
	require.ErrorIs(t, eng.Rewards().Delete(ctx, "mug"), gamify.ErrNotFound)
	require.ErrorIs(t, eng.Rewards().Delete(ctx, "nope"), gamify.ErrNotFound)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "mug", User: "u3"})
	require.ErrorIs(t, err, gamify.ErrNotFound, "an archived reward cannot be claimed")
	replay, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "mug", User: "u1", IdempotencyKey: "k"})
	require.NoError(t, err, "a replay still answers")
	require.Equal(t, first.Seq, replay.Seq)
	_, err = eng.Rewards().AddCodes(ctx, "mug", []string{"X"})
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Rewards().Activate(ctx, "mug")
	require.ErrorIs(t, err, gamify.ErrNotFound, "an archived reward stays archived")
	_, err = eng.Rewards().Patch(ctx, "mug", func(r *gamify.Reward) { r.Name = "Back" })
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "mug", Name: "Mug 2", Type: gamify.RewardDigital})
	require.ErrorIs(t, err, gamify.ErrConflict, "the key is never reused")
	eng.reopen(t)
	got, err = eng.Rewards().Get(ctx, "mug")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, got.Status)
	list, err = eng.Rewards().List(ctx, gamify.RewardListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"later"}, rewardKeys(list))
	claims, err := eng.Users().Claims(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, claims, 1, "claims of an archived reward are kept")
	require.Equal(t, "mug", claims[0].Reward)
}

func TestRewardInventoryNotBelowClaims(t *testing.T) {
	ctx := context.Background()
	eng := rewardEngine(t)
	_, err := eng.Rewards().Create(ctx, gamify.Reward{Key: "pin", Name: "Pin", Type: gamify.RewardPhysical, Inventory: 5})
	require.NoError(t, err)
	for _, u := range []string{"u1", "u2", "u3"} {
		_, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "pin", User: u})
		require.NoError(t, err)
	}
	before := gamify.DumpStore(eng.Engine)
	_, err = eng.Rewards().Patch(ctx, "pin", func(r *gamify.Reward) { r.Inventory = 2 })
	var ve *gamify.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "Reward.Inventory", ve.Field)
	require.Equal(t, before, gamify.DumpStore(eng.Engine))
	r, err := eng.Rewards().Patch(ctx, "pin", func(r *gamify.Reward) { r.Inventory = 3 })
	require.NoError(t, err)
	require.Equal(t, 3, r.Inventory)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "pin", User: "u4"})
	require.ErrorIs(t, err, gamify.ErrOutOfStock)
	r, err = eng.Rewards().Patch(ctx, "pin", func(r *gamify.Reward) { r.Inventory = 0 })
	require.NoError(t, err, "0 is unlimited")
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "pin", User: "u4"})
	require.NoError(t, err)
	r, err = eng.Rewards().Patch(ctx, "pin", func(r *gamify.Reward) { r.Description = "Enamel" })
	require.NoError(t, err, "an untouched Inventory is not checked")
	require.Equal(t, 0, r.Inventory)
}

var generatedKey = regexp.MustCompile(`^gamify_[0-9a-f]{8}$`)

func TestRewardKeysAreGenerated(t *testing.T) {
	ctx := context.Background()
	eng := rewardEngine(t)
	r1, err := eng.Rewards().Create(ctx, gamify.Reward{Name: "One", Type: gamify.RewardDigital})
	require.NoError(t, err)
	require.Regexp(t, generatedKey, r1.Key)
	r2, err := eng.Rewards().Create(ctx, gamify.Reward{Name: "Two", Type: gamify.RewardDigital})
	require.NoError(t, err)
	require.Regexp(t, generatedKey, r2.Key)
	require.NotEqual(t, r1.Key, r2.Key)
	out, issues, err := eng.Rewards().BulkCreate(ctx, []gamify.Reward{{Name: "Three", Type: gamify.RewardDigital}, {Name: "", Type: gamify.RewardDigital}})
	require.NoError(t, err)
	require.Len(t, out, 1)
	require.Regexp(t, generatedKey, out[0].Key)
	require.Len(t, issues, 1)
	require.Empty(t, issues[0].Key, "the caller's key, not a drawn one")
	eng.reopen(t)
	got, err := eng.Rewards().Get(ctx, r1.Key)
	require.NoError(t, err)
	require.Equal(t, r1, got)
}

func TestGeneratedRewardKeyCollisionIsRetried(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	draws := []string{"gamify_00000000", "gamify_00000000", "gamify_00000001",
		"gamify_00000001", "gamify_00000005", // a bulk attempt colliding with an existing reward
		"gamify_00000005", "gamify_00000005", // one whose items collide
		"gamify_00000002", "gamify_00000003"}
	var opts gamify.Options
	gamify.SetRewardKeySource(&opts, func() string {
		mu.Lock()
		defer mu.Unlock()
		k := draws[0]
		draws = draws[1:]
		return k
	})
	eng := openTest(t, &opts)
	r, err := eng.Rewards().Create(ctx, gamify.Reward{Name: "One", Type: gamify.RewardDigital})
	require.NoError(t, err)
	require.Equal(t, "gamify_00000000", r.Key)
	r, err = eng.Rewards().Create(ctx, gamify.Reward{Name: "Two", Type: gamify.RewardDigital})
	require.NoError(t, err)
	require.Equal(t, "gamify_00000001", r.Key, "the colliding draw was retried")
	// A bulk create redraws when one of its keys collides, with an existing
	// reward or with another item.
	out, issues, err := eng.Rewards().BulkCreate(ctx, []gamify.Reward{
		{Name: "Three", Type: gamify.RewardDigital}, {Key: "mine", Name: "Mine", Type: gamify.RewardDigital}, {Name: "Four", Type: gamify.RewardDigital}})
	require.NoError(t, err)
	require.Empty(t, issues)
	require.Equal(t, []string{"gamify_00000002", "mine", "gamify_00000003"}, rewardKeys(out))
	require.Empty(t, draws)
	_, err = eng.Rewards().Get(ctx, "gamify_00000005")
	require.ErrorIs(t, err, gamify.ErrNotFound, "a redrawn attempt left nothing")
	list, err := eng.Rewards().List(ctx, gamify.RewardListOptions{})
	require.NoError(t, err)
	require.Len(t, list, 5)
	// A caller's key in use is a conflict, not retried.
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "mine", Name: "Mine", Type: gamify.RewardDigital})
	require.ErrorIs(t, err, gamify.ErrConflict)
}

func TestRewardCodesLeft(t *testing.T) {
	ctx := context.Background()
	eng := rewardEngine(t)
	_, err := eng.Rewards().Create(ctx, gamify.Reward{Key: "tee", Name: "T-shirt", Type: gamify.RewardCoupon, Status: gamify.StatusInactive})
	require.NoError(t, err)
	n, err := eng.Rewards().AddCodes(ctx, "tee", []string{"C", "A", "B", "A"})
	require.NoError(t, err, "an inactive reward takes codes")
	require.Equal(t, 3, n)
	codes, err := eng.Rewards().Codes(ctx, "tee", gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"A", "B", "C"}, codes)
	codes, err = eng.Rewards().Codes(ctx, "tee", gamify.ListOptions{Limit: 1, Skip: 1})
	require.NoError(t, err)
	require.Equal(t, []string{"B"}, codes)
	codes, err = eng.Rewards().Codes(ctx, "tee", gamify.ListOptions{Skip: 5})
	require.NoError(t, err)
	require.Empty(t, codes)
	_, err = eng.Rewards().Codes(ctx, "tee", gamify.ListOptions{Limit: 101})
	require.ErrorIs(t, err, gamify.ErrInvalid)
	count, err := eng.Rewards().CodeCount(ctx, "tee")
	require.NoError(t, err)
	require.Equal(t, 3, count)

	_, err = eng.Rewards().Activate(ctx, "tee")
	require.NoError(t, err)
	c, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "tee", User: "u1"})
	require.NoError(t, err)
	require.Equal(t, "A", c.Code)
	codes, err = eng.Rewards().Codes(ctx, "tee", gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"B", "C"}, codes, "a claimed code leaves the inventory")
	count, err = eng.Rewards().CodeCount(ctx, "tee")
	require.NoError(t, err)
	require.Equal(t, 2, count)
	rc, err := eng.Rewards().Code(ctx, "tee", "A")
	require.NoError(t, err)
	require.Equal(t, gamify.RewardCode{Code: "A", Claimed: true}, rc)
	rc, err = eng.Rewards().Code(ctx, "tee", "B")
	require.NoError(t, err)
	require.Equal(t, gamify.RewardCode{Code: "B"}, rc)
	_, err = eng.Rewards().Code(ctx, "tee", "Z")
	require.ErrorIs(t, err, gamify.ErrNotFound)

	// A generated code is known as claimed.
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "gen", Name: "Gen", Type: gamify.RewardVoucher})
	require.NoError(t, err)
	g, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "gen", User: "u1"})
	require.NoError(t, err)
	rc, err = eng.Rewards().Code(ctx, "gen", g.Code)
	require.NoError(t, err)
	require.True(t, rc.Claimed)
	codes, err = eng.Rewards().Codes(ctx, "gen", gamify.ListOptions{})
	require.NoError(t, err)
	require.Empty(t, codes)

	// Archived rewards keep their codes readable; missing ones are not found.
	require.NoError(t, eng.Rewards().Delete(ctx, "tee"))
	eng.reopen(t)
	codes, err = eng.Rewards().Codes(ctx, "tee", gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"B", "C"}, codes)
	_, err = eng.Rewards().Codes(ctx, "nope", gamify.ListOptions{})
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Rewards().CodeCount(ctx, "nope")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Rewards().Code(ctx, "nope", "A")
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

func TestClaimReportsBalance(t *testing.T) {
	ctx := context.Background()
	eng := rewardEngine(t)
	_, err := eng.Rewards().Create(ctx, gamify.Reward{Key: "free", Name: "Free sticker", Type: gamify.RewardPhysical, System: "coins"})
	require.NoError(t, err)
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "nosys", Name: "Poster", Type: gamify.RewardDigital})
	require.NoError(t, err)
	c, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "free", User: "u1"})
	require.NoError(t, err)
	require.Equal(t, "100", c.Balance.String(), "a free reward in a system reports the balance")
	require.Equal(t, gamify.RewardPhysical, c.RewardType)
	c, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "free", User: "newcomer"})
	require.NoError(t, err)
	require.True(t, c.Balance.IsZero())
	c, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "nosys", User: "u1"})
	require.NoError(t, err)
	require.True(t, c.Balance.IsZero(), "no system, no balance")
	require.Equal(t, "Poster", c.RewardName)
}
