//go:build race

package leaderboard

// The tests here are single-goroutine, so the race detector finds nothing in
// them and only slows them down about tenfold; race builds run a quarter of
// the randomized operations (plain builds still run all of them).
func init() { raceScale = 4 }
