package schedule_test

import (
	"fmt"
	"time"

	"github.com/gamifykit/gamify/schedule"
)

func ExampleParseCron() {
	ny, _ := time.LoadLocation("America/New_York")
	s, err := schedule.ParseCron("30 2 * * *", ny)
	if err != nil {
		panic(err)
	}
	t := time.Date(2026, 3, 7, 12, 0, 0, 0, ny)
	for range 3 {
		t = s.Next(t)
		fmt.Println(t)
	}
	// Output:
	// 2026-03-08 03:00:00 -0400 EDT
	// 2026-03-09 02:30:00 -0400 EDT
	// 2026-03-10 02:30:00 -0400 EDT
}

func ExampleEvery_PeriodAt() {
	london, _ := time.LoadLocation("Europe/London")
	monthly := schedule.Every{N: 1, Unit: schedule.Month, Anchor: time.Date(2026, 1, 31, 0, 0, 0, 0, london), Loc: london}
	start, end, ok := monthly.PeriodAt(time.Date(2026, 3, 15, 12, 0, 0, 0, london))
	fmt.Println(start, end, ok)
	_, end, ok = monthly.PeriodAt(time.Date(2025, 12, 1, 0, 0, 0, 0, london))
	fmt.Println("not started until", end, ok)
	// Output:
	// 2026-02-28 00:00:00 +0000 GMT 2026-03-31 00:00:00 +0100 BST true
	// not started until 2026-01-31 00:00:00 +0000 GMT false
}

func ExampleQueue() {
	var q schedule.Queue
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	q.Push("board:weekly", t0.Add(2*time.Hour))
	q.Push("boost:expire", t0.Add(time.Hour))
	q.Push("board:daily", t0.Add(time.Hour))
	for _, it := range q.PopDue(t0.Add(time.Hour)) {
		fmt.Println(it.ID, it.Due.Format(time.Kitchen))
	}
	id, due, _ := q.Peek()
	fmt.Println("next:", id, due.Format(time.Kitchen))
	// Output:
	// board:daily 1:00AM
	// boost:expire 1:00AM
	// next: board:weekly 2:00AM
}
