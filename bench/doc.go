// Package bench holds gamify's benchmarks: the engine's write path next to raw
// bbolt baselines measured in the same run, the leaderboard index and the
// domain packages. Figures are recorded in RESULTS.md.
package bench
