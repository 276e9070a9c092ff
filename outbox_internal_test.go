package gamify

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The outbox encoder writes entries byte for byte as the header followed by
// json.Marshal of the note (the stored format), one after another in one
// reused buffer, HTML characters escaped. The notes it encodes by hand are
// here with edge values: negative and fractional amounts, zero and non-UTC
// times, strings needing escapes; and a time json.Marshal refuses fails
// the same way.
func TestNoteEncoderMatchesMarshal(t *testing.T) {
	at := time.Date(2026, 3, 8, 1, 30, 0, 0, time.UTC)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	odd := "u<1>&\"\\\b\f\n\r\t\x01\x1f\x7f é\u2028\u2029\xff\xc3(\U0001F600"
	notes := []Notification{
		PointsChanged{User: odd, System: "coins", Added: AmountFromInt(3), Total: AmountFromInt(12),
			Level: &LevelChange{From: "bronze", To: "silver<", Promotion: true}, At: at},
		UserCreated{User: "a", At: at}, // shorter than the one before: nothing of it may remain
		UserCreated{User: "\u2028é\"", At: at.Add(time.Nanosecond)},
		UserCreated{User: ""}, // the zero time
		PointsChanged{User: "b", System: "gems", Added: AmountFromMicros(-1), Spent: AmountFromMicros(2_500_000),
			Total: AmountFromMicros(math.MinInt64), Level: &LevelChange{Pinned: true}, At: at.In(ny).Add(123456789)},
		PointsChanged{User: "c", Added: AmountFromMicros(100_000), Total: MaxAmount, At: at.In(time.FixedZone("", -(23*3600 + 59*60)))},
		PointsChanged{User: "c", Added: AmountFromMicros(1_000_001), At: at.In(time.FixedZone("X", 5*3600+30*60+17))},
		AchievementCompleted{User: "d", Achievement: "a0", Name: "Ten </script>", At: at.In(ny)},
		StreakChanged{User: "e", Streak: "daily", Kind: StreakFreezeEarned, Period: Date{Year: 2026, Month: 3, Day: 2},
			Length: -1, Freezes: 3, Amount: 1, At: at},
		StreakChanged{User: "e", Streak: "daily", Kind: StreakKind("x\"y"), At: at.Add(time.Millisecond)}, // the zero Date
		StreakLengthChanged{User: "f", Streak: "daily", From: 7, To: 0, At: at.Add(-time.Hour)},
		LeaderboardStarted{Board: "weekly", RunStart: at}, // encoding/json's
	}
	var enc noteEncoder
	for i, n := range notes {
		got, err := enc.encode(n, at.Add(time.Duration(i)))
		if err != nil {
			t.Fatal(err)
		}
		body, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		user, name := n.UserID(), reflect.TypeOf(n).Name()
		want := binary.BigEndian.AppendUint64([]byte{outboxFormat}, uint64(at.Add(time.Duration(i)).UnixNano()))
		want = binary.AppendUvarint(want, uint64(len(user)))
		want = append(want, user...)
		want = binary.AppendUvarint(want, uint64(len(name)))
		want = append(want, name...)
		want = append(want, body...)
		if !bytes.Equal(got, want) {
			t.Errorf("encode(%#v) = %q, want %q", n, got, want)
		}
		e, err := decodeOutbox(binary.BigEndian.AppendUint64(nil, uint64(i+1)), got)
		if err != nil {
			t.Fatalf("decodeOutbox(encode(%#v)): %v", n, err)
		}
		// (JSON carries invalid UTF-8 as U+FFFD: such a user reads back changed.)
		if e.Type != name || (utf8.ValidString(user) && e.Notification.UserID() != user) || !e.At.Equal(at.Add(time.Duration(i))) {
			t.Errorf("decodeOutbox(encode(%#v)) = %+v", n, e)
		}
	}
	for _, bad := range []time.Time{
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		at.In(time.FixedZone("", 24*3600)),
	} {
		for _, n := range []Notification{UserCreated{User: "u", At: bad}, PointsChanged{User: "u", At: bad}} {
			_, jerr := json.Marshal(n)
			if _, err := enc.encode(n, at); err == nil || jerr == nil || !strings.Contains(err.Error(), jerr.Error()) {
				t.Errorf("encode(%#v) error = %v, want json.Marshal's (%v)", n, err, jerr)
			}
		}
	}
}

// The hand-written encodings know each type's fields: a field added to one
// (a tag with omitempty could hide it from the comparisons with
// json.Marshal) must be added to appendNote too.
func TestNoteEncoderKnowsEveryField(t *testing.T) {
	for n, want := range map[Notification]string{
		PointsChanged{}:        "User System Added Spent Total Level At",
		UserCreated{}:          "User At",
		AchievementCompleted{}: "User Achievement Name At",
		StreakChanged{}:        "User Streak Kind Period Length Freezes Amount At",
		StreakLengthChanged{}:  "User Streak From To At",
	} {
		var got []string
		for f := range reflect.TypeOf(n).Fields() {
			if f.Tag != "" {
				t.Errorf("%T.%s has a tag: appendNote ignores tags", n, f.Name)
			}
			got = append(got, f.Name)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%T has fields %v, appendNote writes %s", n, got, want)
		}
		if noteName(n) != reflect.TypeOf(n).Name() {
			t.Errorf("noteName(%T) = %q", n, noteName(n))
		}
	}
	if f, _ := reflect.TypeOf(LevelChange{}).FieldByName("Pinned"); reflect.TypeOf(LevelChange{}).NumField() != 4 || f.Index[0] != 3 {
		t.Errorf("LevelChange's fields changed: appendNote writes From To Promotion Pinned")
	}
}

// FuzzNoteEncoder compares the hand-written encodings with json.Marshal
// over arbitrary strings, amounts, times and zones.
func FuzzNoteEncoder(f *testing.F) {
	f.Add("u<1>&", "coins\u2028", int64(-1), int64(2_500_000), int64(1772935800123456789), 3600, true, 7)
	f.Add("\xff\xc3", "", int64(math.MinInt64), int64(math.MaxInt64), int64(0), -86399, false, -1)
	f.Fuzz(func(t *testing.T, s1, s2 string, m1, m2, ns int64, offset int, flag bool, k int) {
		at := time.Unix(0, ns).In(time.FixedZone(s2, offset))
		if k%3 == 0 {
			at = at.UTC()
		}
		var level *LevelChange
		if flag {
			level = &LevelChange{From: s2, To: s1, Promotion: k%2 == 0, Pinned: m1%2 == 0}
		}
		var enc noteEncoder
		for _, n := range []Notification{
			PointsChanged{User: s1, System: s2, Added: AmountFromMicros(m1), Spent: AmountFromMicros(m2),
				Total: AmountFromMicros(m1 ^ m2), Level: level, At: at},
			UserCreated{User: s1, At: at},
			AchievementCompleted{User: s1, Achievement: s2, Name: s2 + s1, At: at},
			StreakChanged{User: s1, Streak: s2, Kind: StreakKind(s1), Period: Date{Year: k % 10000, Month: time.Month(k%12 + 1), Day: 1},
				Length: k, Freezes: offset, Amount: -k, At: at},
			StreakLengthChanged{User: s1, Streak: s2, From: k, To: offset, At: at},
		} {
			got, ok := appendNote([]byte("prefix"), n)
			want, err := json.Marshal(n)
			if err != nil {
				if ok {
					t.Fatalf("appendNote(%#v) = %q, json.Marshal fails: %v", n, got, err)
				}
				continue
			}
			if !ok || string(got) != "prefix"+string(want) {
				t.Fatalf("appendNote(%#v) = %q, %v; want %q", n, got, ok, want)
			}
			if _, err := enc.encode(n, at); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// BenchmarkNoteEncoder encodes a track's PointsChanged (with a fractional
// total) as the outbox does, and with encoding/json as it did before.
func BenchmarkNoteEncoder(b *testing.B) {
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	var n Notification = PointsChanged{User: "user-000123", System: "coins", Added: AmountFromInt(6), Total: AmountFromMicros(1_234_500_000), At: at}
	b.Run("outbox", func(b *testing.B) {
		b.ReportAllocs()
		var enc noteEncoder
		for b.Loop() {
			if _, err := enc.encode(n, at); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		var e noteEncoder
		e.enc = json.NewEncoder(&e)
		for b.Loop() {
			e.buf = e.buf[:0]
			if err := e.enc.Encode(n); err != nil {
				b.Fatal(err)
			}
		}
	})
}
