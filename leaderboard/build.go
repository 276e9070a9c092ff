package leaderboard

import "slices"

// Entries collected in parts (the engine's rebuild at open decodes them on
// several goroutines) are sorted part by part with Sort, joined with Merge
// and handed to Build, which finds them sorted in one pass.

// compare returns the listing order of o. It panics on an unknown Order.
func (o Order) compare() func(a, b Entry) int {
	switch o {
	case Desc:
		return compareDesc
	case Asc:
		return compareAsc
	}
	panic("leaderboard: unknown " + o.String())
}

// Sort sorts entries in place into the listing order of o: the order an
// Index of o lists them in and Build takes them in. It panics on an unknown
// Order, like New.
//
// A large slice is sorted with a radix sort on (score, subscore, reach
// time), then each run of entries equal in those by user, unless already in
// that order: comparison sorts spend most of their time calling the
// comparator, and at open the entries come in user order, so the runs need
// no sort at all.
func Sort(o Order, entries []Entry) {
	c := o.compare()
	if len(entries) < radixMin {
		slices.SortFunc(entries, c)
		return
	}
	radixSort(o, entries)
	for i := 0; i < len(entries); {
		j := i + 1
		for j < len(entries) && entries[j].Score == entries[i].Score && entries[j].Sub == entries[i].Sub && entries[j].Reached == entries[i].Reached {
			j++
		}
		if run := entries[i:j]; len(run) > 1 && !slices.IsSortedFunc(run, c) {
			slices.SortFunc(run, c)
		}
		i = j
	}
}

// radixMin is the length from which Sort sorts by radix.
const radixMin = 1 << 10

// radixKeys are the keys radixSort orders by, least significant first.
const radixKeys = 3

// radixKey returns key i of e, as an unsigned number in o's direction:
// reach time (always ascending), subscore, score.
func radixKey(o Order, e Entry, i int) uint64 {
	if i == 0 {
		return e.Reached
	}
	v := e.Sub
	if i == 2 {
		v = e.Score
	}
	k := uint64(v) ^ 1<<63 // signed to unsigned order
	if o == Desc {
		k = ^k
	}
	return k
}

// radixSort sorts entries by (score, subscore, reach time) in o's order,
// stably, one byte at a time (least significant first), skipping the bytes
// every entry shares.
func radixSort(o Order, entries []Entry) {
	var diff [radixKeys]uint64 // the bits in which some key differs from the first entry's
	for i := range radixKeys {
		k0 := radixKey(o, entries[0], i)
		for _, e := range entries {
			diff[i] |= radixKey(o, e, i) ^ k0
		}
	}
	src, dst := entries, make([]Entry, len(entries))
	for i := range radixKeys {
		for b := range 8 {
			shift := 8 * b
			if byte(diff[i]>>shift) == 0 {
				continue
			}
			var pos [256]int
			for _, e := range src {
				pos[byte(radixKey(o, e, i)>>shift)]++
			}
			sum := 0
			for d, n := range pos {
				pos[d] = sum
				sum += n
			}
			for _, e := range src {
				d := byte(radixKey(o, e, i) >> shift)
				dst[pos[d]] = e
				pos[d]++
			}
			src, dst = dst, src
		}
	}
	if &src[0] != &entries[0] {
		copy(entries, src)
	}
}

// Merge returns the entries of parts, each already in the listing order of
// o (see Sort), as one slice in that order. With one part it returns that
// part itself; otherwise a new slice, leaving parts as they are. It panics
// on an unknown Order, like New.
func Merge(o Order, parts ...[]Entry) []Entry {
	c := o.compare()
	for len(parts) > 1 {
		next := make([][]Entry, 0, (len(parts)+1)/2)
		for i := 0; i < len(parts); i += 2 {
			if i+1 == len(parts) {
				next = append(next, parts[i])
				continue
			}
			next = append(next, merge2(c, parts[i], parts[i+1]))
		}
		parts = next
	}
	if len(parts) == 0 {
		return nil
	}
	return parts[0]
}

// merge2 merges two sorted slices into a new one; on equal entries a's
// comes first.
func merge2(c func(a, b Entry) int, a, b []Entry) []Entry {
	out := make([]Entry, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if c(b[j], a[i]) < 0 {
			out = append(out, b[j])
			j++
		} else {
			out = append(out, a[i])
			i++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}
