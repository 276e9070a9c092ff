package gamify

import (
	"crypto/sha256"
	"encoding/binary"
)

// inControlGroup assigns a new user to the control group from its id
// alone, so every replica and every replay of the creation agrees: the
// first 8 bytes of SHA-256(id), read as a fraction of 2^64, fall below ratio.
func inControlGroup(id string, ratio float64) bool {
	if ratio <= 0 {
		return false
	}
	sum := sha256.Sum256([]byte(id))
	return float64(binary.BigEndian.Uint64(sum[:8]))/(1<<64) < ratio
}

// outbound reports whether n is a message to the player (what a game pushes
// or e-mails) rather than a record of a change the game may act on.
func outbound(n Notification) bool {
	switch n := n.(type) {
	case AchievementCompleted, StreakMilestoneReached, ChallengeMilestoneReached, ChallengeCompleted,
		StreakReminder, Reactivation, Recap:
		return true
	case BoostStarted:
		return n.User != ""
	case BoostFinished:
		return n.User != ""
	}
	return false
}

// streakNote reports whether n is about a user's streak.
func streakNote(n Notification) bool {
	switch n.(type) {
	case StreakChanged, StreakLengthChanged, StreakMilestoneReached, StreakReminder:
		return true
	}
	return false
}

// dropUnsent removes, at the end of a command, the notifications its users
// must not get: outbound ones for users in the control group, streak ones
// for users who opted out of streaks. Neither the outbox nor subscribers
// see them; the changes themselves are kept.
func (t *txn) dropUnsent() {
	j := 0
	for _, n := range t.notes {
		if u := t.users[n.UserID()]; u != nil &&
			(u.p.Control && outbound(n) || u.p.Preferences.Streak.OptOut && streakNote(n)) {
			continue
		}
		t.notes[j] = n
		j++
	}
	clear(t.notes[j:])
	t.notes = t.notes[:j]
}
