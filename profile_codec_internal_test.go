package gamify

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// randomProfile draws a profile with every field's kinds of values: plain
// and escaped strings, attribute sets repeated between users, preferences
// default or edited.
func randomProfile(r *rand.Rand) profile {
	words := []string{"", "ann", "Zoë", `quo"te`, "<b>&", "tab\t", "\u2028", "日本", "x\\y"}
	pick := func() string { return words[r.IntN(len(words))] }
	t0 := time.Date(2026, 3, 8, 1, 30, 0, 0, time.UTC)
	p := profile{
		ID: "user-" + pick(), UID: r.Uint64() >> r.IntN(64), Name: pick(), Email: pick(), TZ: pick(),
		SubscribeToEmails: r.IntN(2) == 0, Active: r.IntN(2) == 0, Control: r.IntN(4) == 0,
		Created: t0.Add(time.Duration(r.Int64N(1e15))), Updated: t0.Add(time.Duration(r.Int64N(1e15))),
		Preferences: defaultPreferences(),
	}
	if r.IntN(3) > 0 {
		p.Attributes = map[string]string{"country": []string{"FR", "DE", "US"}[r.IntN(3)]}
		if r.IntN(3) == 0 {
			p.Attributes[pick()+"k"] = pick() + "v"
		}
	}
	if r.IntN(3) == 0 {
		p.DeviceTokens = []string{pick() + "t", pick()}
	}
	switch r.IntN(4) {
	case 0:
		p.Preferences = Preferences{Notifications: map[NotificationType][]Channel{NotifyRecap: {}},
			Streak: StreakPreferences{Enabled: true, Thresholds: map[string]Amount{"xp": AmountFromInt(r.Int64N(100))}}, ReminderHour: 1 + r.IntN(24)}
	case 1:
		p.Preferences.Streak.OptOut = true
	}
	if r.IntN(2) == 0 {
		p.SetAt = map[string]int64{"name": r.Int64() - r.Int64(), "attributes." + pick() + "k": r.Int64N(1e18)}
	}
	if r.IntN(2) == 0 {
		p.Remind = remindRec{StreakFor: r.Int64() - r.Int64(), IdleFrom: r.Int64N(1e18), IdleSent: r.IntN(5), RecapWeek: r.Int32N(30000)}
	}
	return p
}

// The decoder gives what json.Unmarshal gives for every stored profile, and
// takes its fast path for those json.Marshal wrote without escapes.
func TestProfileDecoderMatchesUnmarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var d profileDecoder
	fast := 0
	for i := range 2000 {
		in := randomProfile(r)
		pv, err := json.Marshal(&in)
		if err != nil {
			t.Fatal(err)
		}
		var want, got profile
		if err := json.Unmarshal(pv, &want); err != nil {
			t.Fatal(err)
		}
		if err := d.decode(pv, &got); err != nil {
			t.Fatalf("decode(%s): %v", pv, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("profile %d: decode(%s) = %+v, want %+v", i, pv, got, want)
		}
		var again profile
		if new(profileDecoder).fast(pv, &again) {
			fast++
		} else if !bytesHaveEscape(pv) {
			t.Errorf("profile %d: fast path refused %s", i, pv)
		}
	}
	if fast < 20 {
		t.Errorf("fast path taken %d times of 2000", fast)
	}
}

func bytesHaveEscape(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// Input json.Marshal never writes leaves the fast path, and the result is
// json.Unmarshal's, error or not.
func TestProfileDecoderOffForm(t *testing.T) {
	base := `"uid":7,"created":"2026-03-08T01:30:00Z","preferences":{"Streak":{"Enabled":false}}`
	for _, in := range []string{
		`{"id":"a",` + base + `}`,
		`{"id":"a",` + base + `,"id":"b"}`,              // a key twice: the last wins
		`{"ID":"a",` + base + `}`,                       // keys match without case
		`{"id":"a",` + base + `,"extra":[1,{"x":"}"}]}`, // unknown keys are ignored
		` {"id":"a",` + base + `} `,                     // whitespace
		`{"id":"a\u0041",` + base + `}`,                 // an escape
		`{"id":null,"uid":null,"attributes":null,"deviceTokens":null,"remind":null}`,
		`{"uid":1e3}`, `{"uid":-1}`, `{"uid":007}`, `{"uid":18446744073709551616}`, `{"uid":1.0}`,
		`{"remind":{"recapWeek":2147483648}}`, `{"remind":{"idleSent":-3,"idleSent":4}}`, `{"remind":{"other":1}}`,
		`{"attributes":{"a":"1","a":"2"}}`, `{"attributes":{}}`, `{"attributes":{"a":1}}`, `{"deviceTokens":[]}`,
		`{"active":tru}`, `{"active":true`, `{"created":"yesterday"}`, `{"tz":"` + "\xff" + `"}`,
		`{"preferences":{"Notifications":{"recap":["email"]}},"preferences":{}}`, `{"preferences":[]}`,
		`{"preferences":{"ReminderHour":"x"}}`, `{}`, `[]`, ``, `{"id":"a"}x`,
	} {
		var want, got profile
		werr := json.Unmarshal([]byte(in), &want)
		var d profileDecoder
		gerr := d.decode([]byte(in), &got)
		if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("decode(%s) = %+v, %v; want %+v, %v", in, got, gerr, want, werr)
		}
	}
}

// Records decoded from equal encodings share their preferences and
// attribute maps (they are never written in place).
func TestProfileDecoderShares(t *testing.T) {
	var d profileDecoder
	in := profile{ID: "a", Attributes: map[string]string{"country": "FR"}, Preferences: defaultPreferences()}
	pv, _ := json.Marshal(&in)
	var p1, p2 profile
	if err := d.decode(pv, &p1); err != nil {
		t.Fatal(err)
	}
	if err := d.decode(pv, &p2); err != nil {
		t.Fatal(err)
	}
	if reflect.ValueOf(p1.Attributes).UnsafePointer() != reflect.ValueOf(p2.Attributes).UnsafePointer() ||
		reflect.ValueOf(p1.Preferences.Notifications).UnsafePointer() != reflect.ValueOf(p2.Preferences.Notifications).UnsafePointer() {
		t.Errorf("equal encodings decoded to separate maps")
	}
}

func FuzzProfileDecoder(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		p := randomProfile(r)
		pv, _ := json.Marshal(&p)
		f.Add(pv)
	}
	f.Add([]byte(`{"id":"a","uid":1,"remind":{"idleSent":1}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var want, got profile
		werr := json.Unmarshal(in, &want)
		var d profileDecoder
		gerr := d.decode(in, &got)
		if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("decode(%q) = %+v, %v; want %+v, %v", in, got, gerr, want, werr)
		}
	})
}

// BenchmarkProfileDecode decodes the profile of a bench/ full-pipeline user
// (one attribute, the default preferences) as a UserCache miss does.
func BenchmarkProfileDecode(b *testing.B) {
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	in := profile{ID: "user-0012345", UID: 12346, Attributes: map[string]string{"country": "DE"}, SubscribeToEmails: true,
		Created: t0, Updated: t0, Active: true, Preferences: defaultPreferences()}
	pv, _ := json.Marshal(&in)
	b.Run("decoder", func(b *testing.B) {
		var d profileDecoder
		b.ReportAllocs()
		for b.Loop() {
			var p profile
			if err := d.decode(pv, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var p profile
			if err := json.Unmarshal(pv, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
