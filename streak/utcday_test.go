package streak

import (
	"math/rand/v2"
	"testing"
	"time"
)

// localDay and dayStart in UTC skip the calendar; they must agree with it
// to the nanosecond, before 1970 too, at midnight and one ns before.
func TestUTCDaysMatchTheCalendar(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 5))
	lo := time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2261, 12, 31, 0, 0, 0, 0, time.UTC).Unix()
	check := func(tm time.Time) {
		t.Helper()
		if got, want := localDay(tm, time.UTC), DateOf(tm.In(time.UTC)).dayNumber(); got != want {
			t.Fatalf("localDay(%v) = %d, the calendar says %d", tm, got, want)
		}
		z := localDay(tm, time.UTC)
		d := dateOfDay(z)
		if got, want := dayStart(z, time.UTC), time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC); got != want {
			t.Fatalf("dayStart(%d) = %#v, the calendar says %#v", z, got, want)
		}
	}
	for range 20000 {
		tm := time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9))
		check(tm)
		mid := tm.UTC().Truncate(24 * time.Hour)
		check(mid)
		check(mid.Add(-time.Nanosecond))
	}
	check(time.Unix(0, 0))
	check(time.Unix(-1, 999_999_999))
}
