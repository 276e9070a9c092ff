package gamify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/gamifykit/gamify/store"
	"github.com/stretchr/testify/require"
)

// What the build before the renames of Level.Colour (Color),
// Challenge.Enrolment (Enrollment) and ChallengeObjective.Filters
// (EventFilters) logged and stored: the records of its commands creating a
// level and a challenge and patching each, and the two definitions they
// stored, taken from a run of that build.
var (
	oldNamesLog = []string{
		"\x01\ndef.create\x80\x80\xfcϵ\xfa\xed\x9a1{\"Kind\":\"metric\",\"Def\":{\"Key\":\"xp\",\"Name\":\"XP\",\"Description\":\"\",\"ImageURL\":\"\",\"UnitType\":\"\",\"Units\":\"\",\"Status\":\"\",\"Created\":\"0001-01-01T00:00:00Z\",\"Updated\":\"0001-01-01T00:00:00Z\"}}",
		"\x01\x10attribute.create\x80\x80\xfcϵ\xfa\xed\x9a1{\"Key\":\"mode\",\"Name\":\"Mode\",\"Type\":\"event\",\"Status\":\"\",\"Created\":\"0001-01-01T00:00:00Z\",\"Updated\":\"0001-01-01T00:00:00Z\"}",
		"\x01\ndef.create\x80\x80\xfcϵ\xfa\xed\x9a1{\"Kind\":\"points_system\",\"Def\":{\"Key\":\"coins\",\"Name\":\"Coins\",\"Description\":\"\",\"ImageURL\":\"\",\"MaxPoints\":\"0\",\"Status\":\"\",\"Created\":\"0001-01-01T00:00:00Z\",\"Updated\":\"0001-01-01T00:00:00Z\"}}",
		"\x01\ndef.create\x80\xe0\xb6\xd4\xf4\xfd\xed\x9a1{\"Kind\":\"level\",\"Scope\":\"coins\",\"Def\":{\"System\":\"\",\"Key\":\"gold\",\"Level\":1,\"Order\":0,\"Name\":\"Gold\",\"Colour\":\"#ffd700\",\"Threshold\":\"100\",\"Status\":\"\",\"Created\":\"0001-01-01T00:00:00Z\",\"Updated\":\"0001-01-01T00:00:00Z\"}}",
		"\x01\ndef.create\x80\xe0\xb6\xd4\xf4\xfd\xed\x9a1{\"Kind\":\"challenge\",\"Def\":{\"Key\":\"ranked\",\"Name\":\"Ranked\",\"Description\":\"\",\"Window\":\"perpetual\",\"Enrolment\":\"automatic\",\"Objectives\":[{\"Key\":\"r\",\"Name\":\"\",\"Metric\":\"xp\",\"Count\":\"\",\"Filters\":{\"mode\":\"ranked\"},\"Target\":\"10\"}],\"Completion\":{\"Points\":\"0\"},\"Status\":\"\",\"Created\":\"0001-01-01T00:00:00Z\",\"Updated\":\"0001-01-01T00:00:00Z\"}}",
		"\x01\tdef.patch\x80\xc0\xf1س\x81\xee\x9a1{\"Kind\":\"level\",\"Scope\":\"coins\",\"Items\":[{\"Key\":\"gold\",\"Base\":\"pMb9nIMKY41cIiqIFCvWJp7wLw4fGxJAnaf5F7oOn1g=\",\"Def\":{\"System\":\"coins\",\"Key\":\"gold\",\"Level\":1,\"Order\":0,\"Name\":\"Golden\",\"Colour\":\"#ffcc00\",\"Threshold\":\"100\",\"Status\":\"active\",\"Created\":\"2026-03-08T12:01:00Z\",\"Updated\":\"2026-03-08T12:01:00Z\"}}]}",
		"\x01\tdef.patch\x80\xc0\xf1س\x81\xee\x9a1{\"Kind\":\"challenge\",\"Items\":[{\"Key\":\"ranked\",\"Base\":\"o3wDPNX9tMEPujoGEc8qjmKQ7JXF2+h2ltsmbP1RGvQ=\",\"Def\":{\"Key\":\"ranked\",\"Name\":\"Ranked play\",\"Description\":\"\",\"Window\":\"perpetual\",\"Enrolment\":\"automatic\",\"Objectives\":[{\"Key\":\"r\",\"Name\":\"\",\"Metric\":\"xp\",\"Count\":\"\",\"Filters\":{\"mode\":\"ranked\"},\"Target\":\"10\"}],\"Completion\":{\"Points\":\"0\"},\"Status\":\"active\",\"Created\":\"2026-03-08T12:01:00Z\",\"Updated\":\"2026-03-08T12:01:00Z\"}}]}",
	}
	oldNamesStored = map[string]string{
		"points-level/coins/gold": "{\"System\":\"coins\",\"Key\":\"gold\",\"Level\":1,\"Order\":0,\"Name\":\"Golden\",\"Colour\":\"#ffcc00\",\"Threshold\":\"100\",\"Status\":\"active\",\"Created\":\"2026-03-08T12:01:00Z\",\"Updated\":\"2026-03-08T12:02:00Z\",\"seq\":1}",
		"challenge/ranked":        "{\"Key\":\"ranked\",\"Name\":\"Ranked play\",\"Description\":\"\",\"Window\":\"perpetual\",\"Enrolment\":\"automatic\",\"Objectives\":[{\"Key\":\"r\",\"Name\":\"\",\"Metric\":\"xp\",\"Count\":\"\",\"Filters\":{\"mode\":\"ranked\"},\"Target\":\"10\"}],\"Completion\":{\"Points\":\"0\"},\"Status\":\"active\",\"Created\":\"2026-03-08T12:01:00Z\",\"Updated\":\"2026-03-08T12:02:00Z\",\"ref\":1}",
	}
)

// A log written before the renames replays: its creates read the old
// keys, and its patches, whose digests were taken over the JSON with the
// old keys, are not stale. The definitions it stored read back the same.
func TestOldNamesLogReplaysAndStoredDefinitionsRead(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "game.db")
	clock := NewManualClock(time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC))
	e, err := Open(path, &Options{Clock: clock})
	require.NoError(t, err)
	for i, rec := range oldNamesLog {
		c, at, err := decodeCommand([]byte(rec))
		require.NoError(t, err, "record %d", i)
		clock.Set(at)
		_, err = e.do(ctx, c, at, true)
		require.NoError(t, err, "record %d: %s", i, c.(loggable).opName())
	}
	check := func(e *Engine) {
		t.Helper()
		l, err := e.Points().Levels("coins").Get(ctx, "gold")
		require.NoError(t, err)
		require.Equal(t, "Golden", l.Name, "the patch applied")
		require.Equal(t, "#ffcc00", l.Color)
		c, err := e.Challenges().Get(ctx, "ranked")
		require.NoError(t, err)
		require.Equal(t, "Ranked play", c.Name, "the patch applied")
		require.Equal(t, ChallengeAutomatic, c.Enrollment)
		require.Equal(t, map[string]string{"mode": "ranked"}, c.Objectives[0].EventFilters)
		require.NoError(t, e.Check(ctx))
	}
	check(e)
	require.NoError(t, e.Close())

	editDefinitions(t, path, func(tx *store.Tx) error {
		for k, v := range oldNamesStored {
			require.NotNil(t, tx.Get(store.Definitions, []byte(k)), k)
			if err := tx.Put(store.Definitions, []byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	e, err = Open(path, &Options{Clock: clock})
	require.NoError(t, err)
	defer func() { require.NoError(t, e.Close()) }()
	check(e)
}

// The stored forms keep what they add to the definition (a level's seq, a
// challenge's ref and off) although the definition reads itself.
func TestStoredDefinitionsReadOldKeyNames(t *testing.T) {
	var sl storedLevel
	require.NoError(t, json.Unmarshal([]byte(oldNamesStored["points-level/coins/gold"]), &sl))
	require.Equal(t, uint64(1), sl.Seq)
	require.Equal(t, "#ffcc00", sl.Color)
	require.Equal(t, "Golden", sl.Name)

	var sc storedChallenge
	require.NoError(t, json.Unmarshal([]byte(oldNamesStored["challenge/ranked"]), &sc))
	require.Equal(t, uint32(1), sc.Ref)
	require.Equal(t, ChallengeAutomatic, sc.Enrollment)
	require.Equal(t, map[string]string{"mode": "ranked"}, sc.Objectives[0].EventFilters)

	// Today's form round-trips, every field of the stored forms included.
	off := []Interval{{From: time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC)}}
	sc.Ref, sc.Off, sc.Name = 7, off, "Ranked"
	b, err := json.Marshal(sc)
	require.NoError(t, err)
	require.Contains(t, string(b), `"Enrollment":"automatic"`)
	require.Contains(t, string(b), `"EventFilters":{"mode":"ranked"}`)
	var back storedChallenge
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, sc, back)
	sl.Seq = 9
	b, err = json.Marshal(sl)
	require.NoError(t, err)
	require.Contains(t, string(b), `"Color":"#ffcc00"`)
	var backL storedLevel
	require.NoError(t, json.Unmarshal(b, &backL))
	require.Equal(t, sl, backL)
	require.Equal(t, 2, reflectFields[storedLevel](), "a field added to storedLevel is read by its UnmarshalJSON")
	require.Equal(t, 3, reflectFields[storedChallenge](), "a field added to storedChallenge is read by its UnmarshalJSON")
}

// A patch digest is the one the build before the renames took (the Base
// of its logged patches above): over the JSON with the old key names.
func TestPatchDigestKeepsOldKeyNames(t *testing.T) {
	at := time.Date(2026, 3, 8, 12, 1, 0, 0, time.UTC)
	base := func(s string) []byte {
		b, err := base64.StdEncoding.DecodeString(s)
		require.NoError(t, err)
		return b
	}
	l := Level{System: "coins", Key: "gold", Level: 1, Name: "Gold", Color: "#ffd700", Threshold: AmountFromInt(100), Status: StatusActive, Created: at, Updated: at}
	d, err := digest(&l)
	require.NoError(t, err)
	require.Equal(t, base("pMb9nIMKY41cIiqIFCvWJp7wLw4fGxJAnaf5F7oOn1g="), d)
	c := Challenge{Key: "ranked", Name: "Ranked", Window: ChallengePerpetual, Enrollment: ChallengeAutomatic,
		Objectives: []ChallengeObjective{{Key: "r", Metric: "xp", EventFilters: map[string]string{"mode": "ranked"}, Target: AmountFromInt(10)}},
		Completion: ChallengePayout{Points: AmountFromInt(0)}, Status: StatusActive, Created: at, Updated: at}
	d, err = digest(&c)
	require.NoError(t, err)
	require.Equal(t, base("o3wDPNX9tMEPujoGEc8qjmKQ7JXF2+h2ltsmbP1RGvQ="), d)
}

// withOldKeys renames the keys at its paths only: a value, or a key of a
// map, spelled as a renamed key stays as it is.
func TestWithOldKeysRenamesOnlyItsPaths(t *testing.T) {
	c := Challenge{Key: "Enrollment", Name: `"Enrollment":`, Enrollment: ChallengeExplicit, Objectives: []ChallengeObjective{
		{Key: "a", EventFilters: map[string]string{"EventFilters": "Enrollment", "Enrollment": "x"}, Prerequisites: []string{"EventFilters"}},
		{Key: "b"},
		{Key: "c", EventFilters: map[string]string{"k": "v"}},
	}, Milestones: []ChallengeMilestone{{Share: 50}}}
	b, err := json.Marshal(&c)
	require.NoError(t, err)
	got, err := withOldKeys(b, c.oldKeys())
	require.NoError(t, err)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(got, &m))
	require.Contains(t, m, "Enrolment")
	require.NotContains(t, m, "Enrollment")
	var objs []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(m["Objectives"], &objs))
	require.JSONEq(t, `{"EventFilters":"Enrollment","Enrollment":"x"}`, string(objs[0]["Filters"]))
	require.NotContains(t, objs[0], "EventFilters")
	require.NotContains(t, objs[1], "Filters")
	require.JSONEq(t, `{"k":"v"}`, string(objs[2]["Filters"]))
	// Nothing else moved: renamed back, it is the JSON it was.
	var back Challenge
	require.NoError(t, json.Unmarshal(got, &back))
	require.Equal(t, c, back)
	require.Len(t, got, len(b)-len("Enrollment")+len("Enrolment")-2*len("EventFilters")+2*len("Filters"))
}

// reflectFields is the number of fields of T.
func reflectFields[T any]() int { return reflect.TypeFor[T]().NumField() }
