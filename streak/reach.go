package streak

// Reach is the change of one run of the streak history made by a call: the
// run now Length long joins the runs listed in Before (their lengths before
// the call; empty for a new run, one entry when the run just grew, several
// when a late activity joined runs). Thresholds tied to lengths are functions
// of the history: a run is owed what its length reaches, and Before is what
// it was owed already, whatever the order activities arrived in. Multiples
// and Crossed are the one rule every such reward applies (points streak
// triggers, streak achievements, milestones).
type Reach struct {
	Start  Date  // first day of the run's first period
	Before []int // lengths of the runs it joins, before the call
	// Starts are the first days of the runs in Before, in the same order
	// (oldest first): what they were paid is known by them.
	Starts []Date
	Length int // its length after the call
}

// Multiples returns how many multiples of n the run newly reaches: the
// multiples of n up to Length, minus those each joined run had reached.
// Never negative; 0 for n <= 0.
func (r Reach) Multiples(n int) int {
	if n <= 0 {
		return 0
	}
	k := r.Length / n
	for _, b := range r.Before {
		k -= b / n
	}
	return max(k, 0)
}

// Crossed reports whether the run newly reaches length l: it is at least l
// long and none of the runs it joins was.
func (r Reach) Crossed(l int) bool {
	if r.Length < l {
		return false
	}
	for _, b := range r.Before {
		if b >= l {
			return false
		}
	}
	return true
}

// Repaid returns the indexes in Before of the joined runs that were each
// paid threshold l although the run they form is owed it once: every run
// that had reached l but the oldest. A late activity that joins two runs
// which both reached l is the only way to pay l twice in one run.
func (r Reach) Repaid(l int) []int {
	var out []int
	first := true
	for i, b := range r.Before {
		if b < l {
			continue
		}
		if first {
			first = false
			continue
		}
		out = append(out, i)
	}
	return out
}

// runLen is one run of a replayed window: its first period, its latest
// period (settled or projected) and its length.
type runLen struct{ start, end, length int64 }

// runs lists the runs of a recorder filled by history, by first period. A
// restored run carries on the run it restores (same start), so it is one run.
func (r *recorder) runs() []runLen {
	var out []runLen
	for i, l := range r.length {
		if l == 0 {
			continue
		}
		st, p := r.started[i], r.base+int64(i)
		j := len(out) - 1
		for j >= 0 && out[j].start != st {
			j--
		}
		if j < 0 {
			out = append(out, runLen{st, p, l})
			continue
		}
		out[j].end, out[j].length = p, max(out[j].length, l)
	}
	return out
}

// reached returns the runs of after that differ from before, in length or
// in start (a record of what a run was paid follows it by its start). Each
// run of before is a part of the run of after with the same start, else of
// the latest run of after whose periods hold its start; a run of before in
// no run of after is owed nothing more. A run that a late activity cut
// short (it moved a freeze to an earlier gap) is reported with a Length
// below its part's: the periods cut off form runs of their own, owed from
// their first period. This is the one function computing the thresholds a
// change of history newly reaches.
func (d *Definition) reached(before, after []runLen) []Reach {
	var out []Reach
	parts := make([][]int, len(after))
	starts := make([][]Date, len(after))
	for _, o := range before {
		k := -1
		for j, n := range after {
			if n.start == o.start {
				k = j
				break
			}
			if n.start <= o.start && o.start <= n.end {
				k = j
			}
		}
		if k >= 0 {
			parts[k] = append(parts[k], int(o.length))
			starts[k] = append(starts[k], d.firstDate(o.start))
		}
	}
	for j, n := range after {
		if len(parts[j]) == 1 && parts[j][0] == int(n.length) && starts[j][0] == d.firstDate(n.start) {
			continue // unchanged
		}
		out = append(out, Reach{Start: d.firstDate(n.start), Before: parts[j], Starts: starts[j], Length: int(n.length)})
	}
	return out
}
