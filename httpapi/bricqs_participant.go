package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/gamifytype"
)

// A slice of Bricqs' participant-scoped API (/api/v1/gamify, any key):
// points award and deduct, reward claims and the claim history. The
// Idempotency-Key header makes award, deduct and claim safe to retry.
func (h *handler) routeBricqsParticipant() {
	const p = "/api/v1/gamify"
	h.handle("POST "+p+"/points/award", anyKey, h.awardPoints)
	h.handle("POST "+p+"/points/deduct", anyKey, h.deductPoints)
	h.handle("POST "+p+"/rewards/{id}/claim", anyKey, h.claimReward)
	h.handle("GET "+p+"/participants/{id}/rewards", anyKey, h.participantClaims)
	h.handle("POST "+p+"/badges/award", anyKey, h.awardBadge)
	h.handle("GET "+p+"/participants/{id}/badges", anyKey, h.participantBadges)
}

type badgeAwardOut struct {
	ParticipantID string    `json:"participant_id"`
	BadgeCode     string    `json:"badge_code"`
	BadgeName     string    `json:"badge_name"`
	EarnedAt      time.Time `json:"earned_at"`
	AlreadyEarned bool      `json:"already_earned"`
}

// awardBadge completes a manual badge; a repeat returns the original time
// with already_earned (idempotent on participant and badge, as Bricqs).
func (h *handler) awardBadge(c *call) (int, any, error) {
	var in struct {
		ParticipantID string `json:"participant_id"`
		BadgeCode     string `json:"badge_code"`
	}
	if err := c.decode(&in); err != nil {
		return 0, nil, err
	}
	if in.ParticipantID == "" {
		return 0, nil, invalid("participant_id", "participant_id is required")
	}
	if in.BadgeCode == "" {
		return 0, nil, invalid("badge_code", "badge_code is required")
	}
	if err := c.ownUser(in.ParticipantID); err != nil {
		return 0, nil, err
	}
	res, err := c.eng.Achievements().Complete(c.ctx(), gamify.ManualCompletion{Achievement: in.BadgeCode, User: in.ParticipantID})
	if err != nil {
		return 0, nil, err
	}
	out := badgeAwardOut{ParticipantID: in.ParticipantID, BadgeCode: in.BadgeCode, BadgeName: in.BadgeCode,
		EarnedAt: res.CompletedAt.UTC(), AlreadyEarned: res.AlreadyCompleted}
	for _, ac := range res.Completions {
		if ac.Key == in.BadgeCode {
			out.BadgeName = ac.Name
		}
	}
	if a, err := c.eng.Achievements().Get(c.ctx(), in.BadgeCode); err == nil {
		out.BadgeName = a.Name
	}
	if res.AlreadyCompleted {
		return http.StatusOK, out, nil
	}
	return http.StatusCreated, out, nil
}

type participantBadgeOut struct {
	Code     string      `json:"code"`
	Name     string      `json:"name"`
	Earned   bool        `json:"earned"`
	EarnedAt *time.Time  `json:"earned_at"`
	Progress json.Number `json:"progress"`
	Target   json.Number `json:"target"`
}

type participantBadgesOut struct {
	Items       []participantBadgeOut `json:"items"`
	Total       int                   `json:"total"`
	EarnedCount int                   `json:"earned_count"`
}

// participantBadges lists earned badges and, unless earned_only=true, the
// visible ones not yet earned with their progress.
func (h *handler) participantBadges(c *call) (int, any, error) {
	earnedOnly, err := c.queryBool("earned_only")
	if err != nil {
		return 0, nil, err
	}
	id := c.r.PathValue("id")
	if _, err := c.eng.Users().Get(c.ctx(), id); err != nil {
		return 0, nil, participantMissing(err, id)
	}
	list, err := c.eng.Achievements().User(c.ctx(), id, !earnedOnly)
	if err != nil {
		return 0, nil, err
	}
	out := participantBadgesOut{Items: []participantBadgeOut{}}
	for _, ua := range list {
		b := participantBadgeOut{Code: ua.Key, Name: ua.Name, Earned: ua.Completed, Progress: num(ua.Current), Target: num(ua.Target)}
		if ua.Completed {
			b.EarnedAt = instant(ua.CompletedAt)
			out.EarnedCount++
		}
		out.Items = append(out.Items, b)
	}
	out.Total = len(out.Items)
	return http.StatusOK, out, nil
}

type pointsIn struct {
	ParticipantID string          `json:"participant_id"`
	Amount        numberIn        `json:"amount"`
	Reason        string          `json:"reason"`
	Metadata      json.RawMessage `json:"metadata"` // accepted, not stored
	PointsSystem  string          `json:"points_system"`
}

type tierChangeOut struct {
	Code          string `json:"code"`
	Name          string `json:"name"`
	Level         int    `json:"level"`
	PreviousCode  string `json:"previous_code"`
	PreviousLevel int    `json:"previous_level"`
}

type pointsResultOut struct {
	TransactionID      *string        `json:"transaction_id"`
	ParticipantID      string         `json:"participant_id"`
	PointsSystem       string         `json:"points_system"`
	NewBalance         json.Number    `json:"new_balance"`
	TotalPoints        json.Number    `json:"total_points"`
	TierUpgrade        *tierChangeOut `json:"tier_upgrade"`
	IdempotentReplayed bool           `json:"idempotent_replayed"`
}

// pointsEntry reads a Bricqs award or deduct body.
func (c *call) pointsEntry() (gamify.PointsEntry, error) {
	var in pointsIn
	if err := c.decode(&in); err != nil {
		return gamify.PointsEntry{}, err
	}
	if in.ParticipantID == "" {
		return gamify.PointsEntry{}, invalid("participant_id", "participant_id is required")
	}
	if err := c.ownUser(in.ParticipantID); err != nil {
		return gamify.PointsEntry{}, err
	}
	amt, err := amountOf("amount", in.Amount)
	if err != nil {
		return gamify.PointsEntry{}, err
	}
	sys := in.PointsSystem
	if sys == "" {
		if sys, err = c.tierSystem(); err != nil {
			return gamify.PointsEntry{}, err
		}
	}
	return gamify.PointsEntry{System: sys, User: in.ParticipantID, Amount: amt, Reason: in.Reason,
		IdempotencyKey: c.r.Header.Get("Idempotency-Key")}, nil
}

// pointsResultJSON writes a manual award or spend; transaction_id is the
// award's ledger sequence (null for a deduct or a replay, which the result
// does not identify).
func (c *call) pointsResultJSON(user string, res gamify.PointsResult) pointsResultOut {
	out := pointsResultOut{ParticipantID: user, PointsSystem: res.System, NewBalance: num(res.Available),
		TotalPoints: num(res.Total), IdempotentReplayed: res.IdempotentReplayed}
	for _, pc := range res.Points {
		if pc.System != res.System {
			continue
		}
		if n := len(pc.Awards); n > 0 {
			id := fmt.Sprint(pc.Awards[n-1].ID)
			out.TransactionID = &id
		}
		if lc := pc.Level; lc != nil && lc.Promotion {
			out.TierUpgrade = c.tierChange(res.System, lc)
		}
	}
	return out
}

func (c *call) tierChange(system string, lc *gamify.LevelChange) *tierChangeOut {
	out := &tierChangeOut{Code: lc.To, Name: lc.To, PreviousCode: lc.From}
	levels := c.eng.Points().Levels(system)
	if l, err := levels.Get(c.ctx(), lc.To); err == nil {
		out.Name, out.Level = l.Name, l.Level
	} else {
		c.degraded(err)
	}
	if lc.From != "" {
		if l, err := levels.Get(c.ctx(), lc.From); err == nil {
			out.PreviousLevel = l.Level
		} else {
			c.degraded(err)
		}
	}
	return out
}

func (h *handler) awardPoints(c *call) (int, any, error) {
	p, err := c.pointsEntry()
	if err != nil {
		return 0, nil, err
	}
	res, err := c.eng.Points().Award(c.ctx(), p)
	if err != nil {
		return 0, nil, keyConflict(err, p.IdempotencyKey)
	}
	return http.StatusOK, c.pointsResultJSON(p.User, res), nil
}

func (h *handler) deductPoints(c *call) (int, any, error) {
	p, err := c.pointsEntry()
	if err != nil {
		return 0, nil, err
	}
	// Bricqs clients send a reason with a deduct too; the engine records
	// reasons with awards only (the award log), so it is checked and dropped.
	if err := gamifytype.CheckText("reason", p.Reason, gamifytype.MaxNameLen); err != nil {
		return 0, nil, err
	}
	p.Reason = ""
	res, err := c.eng.Points().Spend(c.ctx(), p)
	if err != nil {
		return 0, nil, keyConflict(err, p.IdempotencyKey)
	}
	return http.StatusOK, c.pointsResultJSON(p.User, res), nil
}

type claimOut struct {
	ClaimID            string      `json:"claim_id"`
	RewardID           string      `json:"reward_id"`
	RewardName         string      `json:"reward_name"`
	RewardType         string      `json:"reward_type"`
	ParticipantID      string      `json:"participant_id"`
	CodeValue          *string     `json:"code_value"`
	PointsDeducted     json.Number `json:"points_deducted"`
	NewBalance         json.Number `json:"new_balance"`
	ClaimedAt          time.Time   `json:"claimed_at"`
	IdempotentReplayed bool        `json:"idempotent_replayed"`
}

func claimJSON(cl gamify.Claim) claimOut {
	return claimOut{ClaimID: fmt.Sprint(cl.Seq), RewardID: cl.Reward, RewardName: cl.RewardName, RewardType: string(cl.RewardType),
		ParticipantID: cl.User, CodeValue: strOrNull(cl.Code), PointsDeducted: num(cl.Cost), NewBalance: num(cl.Balance),
		ClaimedAt: cl.At.UTC(), IdempotentReplayed: cl.IdempotentReplayed}
}

func (h *handler) claimReward(c *call) (int, any, error) {
	var in struct {
		ParticipantID string `json:"participant_id"`
	}
	if err := c.decode(&in); err != nil {
		return 0, nil, err
	}
	if in.ParticipantID == "" {
		return 0, nil, invalid("participant_id", "participant_id is required")
	}
	if err := c.ownUser(in.ParticipantID); err != nil {
		return 0, nil, err
	}
	key := c.r.Header.Get("Idempotency-Key")
	cl, err := c.eng.Rewards().Claim(c.ctx(), gamify.ClaimRequest{Reward: c.r.PathValue("id"), User: in.ParticipantID, IdempotencyKey: key})
	if err != nil {
		return 0, nil, keyConflict(err, key)
	}
	if cl.IdempotentReplayed {
		return http.StatusOK, claimJSON(cl), nil
	}
	return http.StatusCreated, claimJSON(cl), nil
}

type claimsOut struct {
	Items []claimOut `json:"items"`
	Total int        `json:"total"`
}

func (h *handler) participantClaims(c *call) (int, any, error) {
	id := c.r.PathValue("id")
	if _, err := c.eng.Users().Get(c.ctx(), id); err != nil {
		return 0, nil, participantMissing(err, id)
	}
	cls, err := c.eng.Users().Claims(c.ctx(), id)
	if err != nil {
		return 0, nil, err
	}
	out := claimsOut{Items: []claimOut{}, Total: len(cls)}
	for _, cl := range cls {
		out.Items = append(out.Items, claimJSON(cl))
	}
	return http.StatusOK, out, nil
}
