package achievement

import (
	"fmt"
	"testing"

	"github.com/gamifykit/gamify/gamifytype"
)

// benchCatalog has 20 definitions on 5 metrics: per metric two plain
// thresholds and one with an event filter, plus a composite over the three.
func benchCatalog(b *testing.B) *Catalog {
	var defs []Definition
	for m := range 5 {
		metric := fmt.Sprintf("metric%d", m)
		low, high := metricDef(metric+"-low", metric, 1e11), metricDef(metric+"-high", metric, 1e12)
		f := metricDef(metric+"-ios", metric, 5e11)
		f.EventFilters = map[string]string{"platform": "ios"}
		defs = append(defs, low, high, f, compositeDef(metric+"-all", low.Key, high.Key, f.Key))
	}
	c, err := NewCatalog(defs)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkOnMetric measures the evaluation per event in the steady state:
// a user who holds some achievements and is working towards the rest
// (thresholds far away), events alternating between matching and not
// matching the filter.
func BenchmarkOnMetric(b *testing.B) {
	c := benchCatalog(b)
	var s State
	// Hold the achievements of metric0 so lookups also find completions.
	s, _, err := OnMetric(c, s, MetricChange{Metric: "metric0", Delta: amt(2e12), Total: amt(2e12), EventAttrs: map[string]string{"platform": "ios"}}, t0)
	if err != nil || !s.has("metric0-all") {
		b.Fatal("warm-up did not complete metric0", err)
	}
	events := []MetricChange{
		{Metric: "metric1", Delta: amt(1), EventAttrs: map[string]string{"platform": "ios"}},
		{Metric: "metric2", Delta: amt(1), EventAttrs: map[string]string{"platform": "web"}},
		{Metric: "metric0", Delta: amt(1), EventAttrs: map[string]string{"platform": "ios"}},
		{Metric: "metric3", Delta: amt(1)},
	}
	totals := map[string]gamifytype.Amount{"metric0": amt(2e12)}
	attrs := map[string]string{"plan": "pro"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ch := events[i%len(events)]
		totals[ch.Metric] = totals[ch.Metric].Add(ch.Delta)
		ch.Total, ch.UserAttrs = totals[ch.Metric], attrs
		var done []Completion
		if s, done, err = OnMetric(c, s, ch, t0); err != nil || len(done) != 0 {
			b.Fatal(done, err)
		}
	}
}

// BenchmarkBackdate measures one user of a backdating chunk over the whole
// catalogue, with nothing to complete.
func BenchmarkBackdate(b *testing.B) {
	c := benchCatalog(b)
	f := Facts{Totals: map[string]gamifytype.Amount{"metric0": amt(5), "metric1": amt(7)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, done := Backdate(c, State{}, f, nil, t0); len(done) != 0 {
			b.Fatal(done)
		}
	}
}
