package gamify

import (
	"math/rand/v2"
	"testing"
	"time"
)

// localDay in UTC skips the calendar; it must agree with it, before 1970
// too, at midnight and one ns before.
func TestLocalDayInUTCMatchesTheCalendar(t *testing.T) {
	calendar := func(tm time.Time) int32 {
		y, m, d := tm.Date()
		return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	}
	rng := rand.New(rand.NewPCG(16, 5))
	lo := time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2261, 12, 31, 0, 0, 0, 0, time.UTC).Unix()
	for range 20000 {
		tm := time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9))
		mid := tm.UTC().Truncate(24 * time.Hour)
		for _, x := range []time.Time{tm, mid, mid.Add(-time.Nanosecond)} {
			if got, want := localDay(x, time.UTC), calendar(x.UTC()); got != want {
				t.Fatalf("localDay(%v) = %d, the calendar says %d", x, got, want)
			}
		}
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	late := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC) // 00:30 on the 2nd in Paris
	if got, want := localDay(late, paris), localDay(late, time.UTC)+1; got != want {
		t.Fatalf("localDay in Paris = %d, want %d", got, want)
	}
}
