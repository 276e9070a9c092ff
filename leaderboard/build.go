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
// Index of o lists them in and Build takes them in.
func Sort(o Order, entries []Entry) { slices.SortFunc(entries, o.compare()) }

// Merge returns the entries of parts, each already in the listing order of
// o (see Sort), as one slice in that order. With one part it returns that
// part itself; otherwise a new slice, leaving parts as they are.
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
