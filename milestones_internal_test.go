package gamify

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify/streak"
)

// The paid-milestone records round-trip through the state record, with and
// without participations before them, and a damaged section is refused.
func TestPaidMilestonesRoundTrip(t *testing.T) {
	paid := []milestonePaid{
		{Streak: 1, Start: 100, Length: 3, System: 2, Points: AmountFromInt(5), At: t0Internal.UnixNano()},
		{Streak: 1, Start: 100, Length: 7, System: 2, Points: AmountFromMicros(1), Reward: 3, Claim: 1 << 40},
		{Streak: 1, Start: 100, Length: 9, Reward: 1, Claim: 7},
		{Streak: 2, Start: 90, Length: 3, System: 1, Points: AmountFromInt(1 << 40)},
	}
	chals := []userChallenge{{Ref: 1, Enrolled: 5, From: 5, To: 10, Progress: []int64{1}}}
	for _, s := range []userState{
		{Events: 1, Paid: paid},
		{Events: 1, Chals: chals, Paid: paid},
		{Events: 1, Chals: chals},
	} {
		b := s.marshal(nil)
		var back userState
		require.NoError(t, back.unmarshal(b))
		require.Equal(t, s.Paid, back.Paid)
		require.Equal(t, len(s.Chals), len(back.Chals))
		require.Equal(t, b, back.marshal(nil), "the encoding is canonical")
		if len(s.Paid) > 0 {
			require.Error(t, new(userState).unmarshal(b[:len(b)-1]), "a cut record")
		}
	}
	// Out of order records are refused.
	bad := userState{Paid: []milestonePaid{paid[1], paid[0]}}
	require.ErrorIs(t, new(userState).unmarshal(bad.marshal(nil)), errCorruptState)
	// An empty challenge section with nothing after it is not canonical.
	b := (&userState{}).marshal(nil)
	require.ErrorIs(t, new(userState).unmarshal(append(b, 0)), errCorruptState)
}

func TestPrunePaidKeepsJoinableRuns(t *testing.T) {
	now := t0Internal
	recent := dateKey(streak.DateOf(now.AddDate(0, 0, -paidHorizon)))
	ps := []milestonePaid{{Streak: 1, Start: recent - 1, Length: 3}, {Streak: 1, Start: recent, Length: 3}, {Streak: 2, Start: recent - 40, Length: 7}}
	got := prunePaid(ps, now)
	require.Equal(t, []milestonePaid{{Streak: 1, Start: recent, Length: 3}}, got)
	require.Len(t, ps, 3, "the committed slice is not modified")
	require.Nil(t, prunePaid([]milestonePaid{ps[0]}, now))
}

// The trailing sections of a state record (participations, milestone and
// streak trigger records, profile fields seen) round-trip in any
// combination; a damaged or inconsistent one is refused.
func TestTrailingSectionsRoundTrip(t *testing.T) {
	paid := []milestonePaid{{Streak: 1, Start: 100, Length: 3, System: 2, Points: AmountFromInt(5)}}
	trig := []triggerPaid{
		{Streak: 1, Start: 100, Trigger: 4, System: 2, EveryN: 3, Multiples: 2, Points: AmountFromInt(60), At: t0Internal.UnixNano()},
		{Streak: 1, Start: 100, Trigger: 9, System: 1, EveryN: 1, Multiples: 7, Points: AmountFromMicros(1)},
		{Streak: 3, Start: 90, Trigger: 4, System: 2, EveryN: 3, Multiples: 1, Points: AmountFromInt(30)},
	}
	chals := []userChallenge{{Ref: 1, Enrolled: 5, From: 5, To: 10, Progress: []int64{1}}}
	seen := []profileSeen{{"attributes.plan", t0Internal.UnixNano()}, {"tz", 1}}
	// Every combination of the trailing sections, each present or empty.
	for mask := 1; mask < 16; mask++ {
		s := userState{Events: 1}
		if mask&1 != 0 {
			s.Chals = chals
		}
		if mask&2 != 0 {
			s.Paid = paid
		}
		if mask&4 != 0 {
			s.TrigPaid = trig
		}
		if mask&8 != 0 {
			s.Seen = seen
		}
		b := s.marshal(nil)
		var back userState
		require.NoError(t, back.unmarshal(b), "sections %04b", mask)
		require.Equal(t, len(s.Chals), len(back.Chals))
		require.Equal(t, s.Paid, back.Paid)
		require.Equal(t, s.TrigPaid, back.TrigPaid)
		require.Equal(t, s.Seen, back.Seen)
		require.Equal(t, b, back.marshal(nil), "the encoding is canonical")
		require.Error(t, new(userState).unmarshal(b[:len(b)-1]), "a cut record")
		require.Error(t, new(userState).unmarshal(append(b, 0)), "an empty section with nothing after it")
	}
	for _, ss := range [][]profileSeen{{{"tz", 1}, {"name", 1}}, {{"tz", 1}, {"tz", 2}}} {
		bad := userState{Seen: ss}
		require.ErrorIs(t, new(userState).unmarshal(bad.marshal(nil)), errCorruptState, "%v out of order", ss)
	}
	for _, p := range []triggerPaid{
		{Streak: 1, Start: 100, Trigger: 4, System: 2, EveryN: 0, Multiples: 2, Points: AmountFromInt(60)},
		{Streak: 1, Start: 100, Trigger: 4, System: 2, EveryN: 3, Multiples: 0, Points: AmountFromInt(60)},
		{Streak: 1, Start: 100, Trigger: 4, System: 2, EveryN: 3, Multiples: 2, Points: AmountFromInt(-1)},
	} {
		bad := userState{TrigPaid: []triggerPaid{p}}
		require.ErrorIs(t, new(userState).unmarshal(bad.marshal(nil)), errCorruptState, "%+v", p)
	}
	bad := userState{TrigPaid: []triggerPaid{trig[1], trig[0]}}
	require.ErrorIs(t, new(userState).unmarshal(bad.marshal(nil)), errCorruptState, "out of order")
}
