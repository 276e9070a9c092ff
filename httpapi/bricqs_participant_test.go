package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/httpapi"
)

type pointsResultGolden struct {
	TransactionID *string `json:"transaction_id"`
	ParticipantID string  `json:"participant_id"`
	PointsSystem  string  `json:"points_system"`
	NewBalance    float64 `json:"new_balance"`
	TotalPoints   float64 `json:"total_points"`
	TierUpgrade   *struct {
		Code          string `json:"code"`
		Name          string `json:"name"`
		Level         int    `json:"level"`
		PreviousCode  string `json:"previous_code"`
		PreviousLevel int    `json:"previous_level"`
	} `json:"tier_upgrade"`
	IdempotentReplayed bool `json:"idempotent_replayed"`
}

type claimGolden struct {
	ClaimID            string    `json:"claim_id"`
	RewardID           string    `json:"reward_id"`
	RewardName         string    `json:"reward_name"`
	RewardType         string    `json:"reward_type"`
	ParticipantID      string    `json:"participant_id"`
	CodeValue          *string   `json:"code_value"`
	PointsDeducted     float64   `json:"points_deducted"`
	NewBalance         float64   `json:"new_balance"`
	ClaimedAt          time.Time `json:"claimed_at"`
	IdempotentReplayed bool      `json:"idempotent_replayed"`
}

func TestBricqsPointsAwardAndDeduct(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	const award, deduct = "/api/v1/gamify/points/award", "/api/v1/gamify/points/deduct"
	var got pointsResultGolden
	r := e.do("POST", award, appKey, `{"participant_id":"ana","amount":100,"reason":"welcome","metadata":{"campaign":"spring"}}`, "Idempotency-Key", "w-1")
	r.requireStatus(t, http.StatusOK)
	r.decode(t, &got)
	require.NotNil(t, got.TransactionID)
	require.Equal(t, "ana", got.ParticipantID)
	require.Equal(t, "xp", got.PointsSystem)
	require.Equal(t, 100.0, got.NewBalance)
	require.Equal(t, "silver", got.TierUpgrade.Code)
	require.Equal(t, 2, got.TierUpgrade.Level)
	require.Equal(t, "", got.TierUpgrade.PreviousCode) // a new user: one change per call, from below every level
	require.Equal(t, 0, got.TierUpgrade.PreviousLevel)
	require.False(t, got.IdempotentReplayed)

	// The retry changes nothing.
	e.do("POST", award, appKey, `{"participant_id":"ana","amount":100,"reason":"welcome"}`, "Idempotency-Key", "w-1").decode(t, &got)
	require.True(t, got.IdempotentReplayed)
	require.Equal(t, 100.0, got.NewBalance)
	require.Nil(t, got.TierUpgrade)
	// The key reused for another amount, or for a deduct, is a conflict
	// naming the header.
	e.do("POST", award, appKey, `{"participant_id":"ana","amount":5,"reason":"welcome"}`, "Idempotency-Key", "w-1").requireError(t, http.StatusConflict, "conflict", "Idempotency-Key")
	e.do("POST", deduct, appKey, `{"participant_id":"ana","amount":100,"reason":"welcome"}`, "Idempotency-Key", "w-1").requireError(t, http.StatusConflict, "conflict", "Idempotency-Key")

	// Spend: too much is 422 insufficient_points and changes nothing.
	e.do("POST", deduct, appKey, `{"participant_id":"ana","amount":500}`).requireError(t, http.StatusUnprocessableEntity, "insufficient_points", "")
	e.do("POST", deduct, appKey, `{"participant_id":"ana","amount":30,"reason":"shop"}`).decode(t, &got) // a reason is accepted
	require.Equal(t, 70.0, got.NewBalance)
	require.Equal(t, 100.0, got.TotalPoints) // lifetime points are not reduced
	// An existing user's promotion names the level left.
	e.do("POST", award, appKey, `{"participant_id":"bo","amount":1}`).requireStatus(t, http.StatusOK)
	e.do("POST", award, appKey, `{"participant_id":"bo","amount":30}`).decode(t, &got)
	require.Equal(t, "bronze", got.TierUpgrade.PreviousCode)
	require.Equal(t, 1, got.TierUpgrade.PreviousLevel)
	e.do("POST", deduct, appKey, `{"amount":1}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "participant_id")
	e.do("POST", award, appKey, `{"participant_id":"ana","amount":"lots"}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "amount")
	e.do("POST", award, appKey, `{"participant_id":"ana","amount":1,"points_system":"nope"}`).requireStatus(t, http.StatusNotFound)

	// Another conflict names no field, a key given or not.
	_, err := e.eng.Points().Deactivate(context.Background(), "xp")
	require.NoError(t, err)
	e.do("POST", award, appKey, `{"participant_id":"ana","amount":1}`, "Idempotency-Key", "w-2").requireError(t, http.StatusConflict, "conflict", "")
}

func TestBricqsRewardClaims(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	ctx := context.Background()
	_, err := e.eng.Rewards().Create(ctx, gamify.Reward{Key: "coffee", Name: "Coffee", Type: gamify.RewardCoupon,
		Cost: gamify.AmountFromInt(50), System: "xp", Inventory: 1})
	require.NoError(t, err)
	for _, u := range []string{"ana", "bo"} {
		e.do("POST", "/api/v1/gamify/points/award", appKey, `{"participant_id":"`+u+`","amount":60}`).requireStatus(t, http.StatusOK)
	}
	const claim = "/api/v1/gamify/rewards/coffee/claim"
	r := e.do("POST", claim, appKey, `{"participant_id":"ana"}`, "Idempotency-Key", "c-1")
	r.requireStatus(t, http.StatusCreated)
	var c claimGolden
	r.decode(t, &c)
	require.NotNil(t, c.CodeValue)
	require.Equal(t, claimGolden{ClaimID: c.ClaimID, RewardID: "coffee", RewardName: "Coffee", RewardType: "coupon", ParticipantID: "ana",
		CodeValue: c.CodeValue, PointsDeducted: 50, NewBalance: 10, ClaimedAt: t0}, c)

	// The retry returns the original claim; the stock is gone for others.
	var again claimGolden
	e.do("POST", claim, appKey, `{"participant_id":"ana"}`, "Idempotency-Key", "c-1").decode(t, &again)
	require.True(t, again.IdempotentReplayed)
	require.Equal(t, c.ClaimID, again.ClaimID)
	e.do("POST", claim, appKey, `{"participant_id":"bo"}`).requireError(t, http.StatusConflict, "out_of_stock", "")
	e.do("POST", "/api/v1/gamify/rewards/nope/claim", appKey, `{"participant_id":"bo"}`).requireError(t, http.StatusNotFound, "not_found", "ClaimRequest.Reward")

	_, err = e.eng.Rewards().Create(ctx, gamify.Reward{Key: "mug", Name: "Mug", Type: gamify.RewardPhysical, Cost: gamify.AmountFromInt(500), System: "xp"})
	require.NoError(t, err)
	e.do("POST", "/api/v1/gamify/rewards/mug/claim", appKey, `{"participant_id":"bo"}`).requireError(t, http.StatusUnprocessableEntity, "insufficient_points", "")

	var hist struct {
		Items []claimGolden `json:"items"`
		Total int           `json:"total"`
	}
	e.do("GET", "/api/v1/gamify/participants/ana/rewards", appKey, nil).decode(t, &hist)
	require.Equal(t, 1, hist.Total)
	require.Equal(t, c.ClaimID, hist.Items[0].ClaimID)
	e.do("GET", "/api/v1/gamify/participants/zed/rewards", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
	b, err := e.eng.Users().Points(ctx, "bo", "xp")
	require.NoError(t, err)
	require.Equal(t, "60", b.Available.String()) // the refused claims took nothing
}

func TestBricqsBadgeAward(t *testing.T) {
	e := newEnv(t, httpapi.Options{})
	e.do("POST", admin+"/badges", adminKey, `{"code":"helper","name":"Helper"}`).requireStatus(t, http.StatusCreated)
	type awardGolden struct {
		ParticipantID string    `json:"participant_id"`
		BadgeCode     string    `json:"badge_code"`
		BadgeName     string    `json:"badge_name"`
		EarnedAt      time.Time `json:"earned_at"`
		AlreadyEarned bool      `json:"already_earned"`
	}
	var a awardGolden
	r := e.do("POST", "/api/v1/gamify/badges/award", appKey, `{"participant_id":"ana","badge_code":"helper"}`)
	r.requireStatus(t, http.StatusCreated)
	r.decode(t, &a)
	require.Equal(t, awardGolden{"ana", "helper", "Helper", t0, false}, a)
	e.clock.Advance(time.Hour)
	r = e.do("POST", "/api/v1/gamify/badges/award", appKey, `{"participant_id":"ana","badge_code":"helper"}`)
	r.requireStatus(t, http.StatusOK)
	r.decode(t, &a)
	require.Equal(t, awardGolden{"ana", "helper", "Helper", t0, true}, a) // the original time
	e.do("POST", "/api/v1/gamify/badges/award", appKey, `{"participant_id":"ana","badge_code":"ten-words"}`).requireStatus(t, http.StatusUnprocessableEntity)
	e.do("POST", "/api/v1/gamify/badges/award", appKey, `{"participant_id":"ana"}`).requireError(t, http.StatusUnprocessableEntity, "invalid", "badge_code")

	type badgesGolden struct {
		Items []struct {
			Code     string     `json:"code"`
			Name     string     `json:"name"`
			Earned   bool       `json:"earned"`
			EarnedAt *time.Time `json:"earned_at"`
			Progress float64    `json:"progress"`
			Target   float64    `json:"target"`
		} `json:"items"`
		Total       int `json:"total"`
		EarnedCount int `json:"earned_count"`
	}
	var b badgesGolden
	e.do("GET", "/api/v1/gamify/participants/ana/badges", appKey, nil).decode(t, &b)
	require.Equal(t, 3, b.Total) // helper earned; onboarded and ten-words not yet
	require.Equal(t, 1, b.EarnedCount)
	e.do("GET", "/api/v1/gamify/participants/ana/badges?earned_only=true", appKey, nil).decode(t, &b)
	require.Equal(t, 1, b.Total)
	require.Equal(t, "helper", b.Items[0].Code)
	require.Equal(t, ptr(t0), b.Items[0].EarnedAt)
	e.do("GET", "/api/v1/gamify/participants/zed/badges", appKey, nil).requireError(t, http.StatusNotFound, "not_found", "")
}

// TestUserScopedKeyClaims checks a user-confined key may claim a reward for
// its own user (the path's {id} is the reward) but not for another.
func TestUserScopedKeyClaims(t *testing.T) {
	e := newEnv(t, httpapi.Options{Keys: []httpapi.Key{{Secret: appKey}, {Secret: "ana-key", User: "ana"}}})
	_, err := e.eng.Rewards().Create(context.Background(), gamify.Reward{Key: "coffee", Name: "Coffee", Type: gamify.RewardCoupon,
		Cost: gamify.AmountFromInt(5), System: "xp"})
	require.NoError(t, err)
	for _, u := range []string{"ana", "bo"} {
		e.do("POST", "/api/v1/gamify/points/award", appKey, `{"participant_id":"`+u+`","amount":60}`).requireStatus(t, http.StatusOK)
	}
	const claim = "/api/v1/gamify/rewards/coffee/claim"
	e.do("POST", claim, "ana-key", `{"participant_id":"ana"}`).requireStatus(t, http.StatusCreated)
	e.do("POST", claim, "ana-key", `{"participant_id":"bo"}`).requireError(t, http.StatusForbidden, "forbidden", "")
	e.do("GET", "/api/v1/gamify/participants/ana/rewards", "ana-key", nil).requireStatus(t, http.StatusOK)
	e.do("GET", "/api/v1/gamify/participants/bo/rewards", "ana-key", nil).requireError(t, http.StatusForbidden, "forbidden", "")
}
