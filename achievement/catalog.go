package achievement

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gamifykit/gamify/gamifytype"
)

// Catalog is a validated set of definitions with the indexes evaluation
// needs. It is immutable and safe for concurrent use; the engine builds a new
// one whenever a definition changes. Soft-deleted definitions are left out
// (so a composite must not list a deleted achievement), inactive ones are
// kept: their filtered sums accrue, for backdating on activation. A nil
// *Catalog is an empty one.
type Catalog struct {
	defs  []Definition
	index map[string]int
	// rank orders every definition so that each composite comes after all
	// its prerequisites (non-composites first).
	rank     []int
	byMetric map[string]plan
	byStreak map[string]plan
	// after[i] lists the composites depending on i, transitively, by rank.
	after [][]int
	all   []int // every definition, by rank
}

// plan is what an event on one metric or streak evaluates: the direct
// achievements, then the composites depending on them, by rank.
type plan struct {
	direct     []int
	composites []int
}

// NewCatalog validates every definition and the rules between them (unique
// keys, prerequisites that exist, no cycles) and builds the indexes. All
// problems are reported, joined; field names carry the definition's
// position, e.g. "Achievements[2].Threshold".
func NewCatalog(defs []Definition) (*Catalog, error) {
	c := &Catalog{defs: make([]Definition, len(defs)), index: make(map[string]int, len(defs))}
	var errs []error
	for i := range defs {
		c.defs[i] = defs[i].clone()
		if err := c.defs[i].Validate(); err != nil {
			errs = append(errs, prefixed(err, i))
		}
		if j, dup := c.index[defs[i].Key]; dup {
			errs = append(errs, gamifytype.Invalid(fmt.Sprintf("Achievements[%d].Key", i), defs[i].Key, fmt.Sprintf("duplicates Achievements[%d]", j)))
			continue
		}
		c.index[defs[i].Key] = i
	}
	for i := range c.defs {
		for j, p := range c.defs[i].Prerequisites {
			if _, ok := c.index[p]; !ok && gamifytype.ValidateKey("", p) == nil {
				errs = append(errs, gamifytype.Invalid(fmt.Sprintf("Achievements[%d].Prerequisites[%d]", i, j), p, "is not a known achievement"))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := c.order(); err != nil {
		return nil, err
	}
	c.build()
	return c, nil
}

// prefixed renames the fields of the ValidationErrors in err from
// "Achievement.X" to "Achievements[i].X".
func prefixed(err error, i int) error {
	var out []error
	for _, e := range unjoin(err) {
		var ve *gamifytype.ValidationError
		if errors.As(e, &ve) {
			f := fmt.Sprintf("Achievements[%d].", i) + strings.TrimPrefix(ve.Field, "Achievement.")
			e = gamifytype.Invalid(f, ve.Value, ve.Reason)
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// order computes rank by a depth-first walk over prerequisites and reports
// the first cycle found, spelled out.
func (c *Catalog) order() error {
	const (
		white = iota
		grey
		black
	)
	color := make([]uint8, len(c.defs))
	var path []int
	var visit func(i int) error
	visit = func(i int) error {
		switch color[i] {
		case black:
			return nil
		case grey:
			start := slices.Index(path, i)
			names := make([]string, 0, len(path)-start+1)
			for _, j := range path[start:] {
				names = append(names, c.defs[j].Key)
			}
			names = append(names, c.defs[i].Key)
			return gamifytype.Invalid(fmt.Sprintf("Achievements[%d].Prerequisites", i), c.defs[i].Key, "form a cycle: "+strings.Join(names, " -> "))
		}
		color[i] = grey
		path = append(path, i)
		for _, p := range c.defs[i].Prerequisites {
			if err := visit(c.index[p]); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		color[i] = black
		c.all = append(c.all, i)
		return nil
	}
	for i := range c.defs {
		if err := visit(i); err != nil {
			return err
		}
	}
	c.rank = make([]int, len(c.defs))
	for r, i := range c.all {
		c.rank[i] = r
	}
	return nil
}

func (c *Catalog) build() {
	dependents := make([][]int, len(c.defs))
	for i := range c.defs {
		for _, p := range c.defs[i].Prerequisites {
			j := c.index[p]
			dependents[j] = append(dependents[j], i)
		}
	}
	c.after = make([][]int, len(c.defs))
	for i := range c.defs {
		c.after[i] = c.closure([]int{i}, dependents)
	}
	c.byMetric = make(map[string]plan)
	c.byStreak = make(map[string]plan)
	for _, i := range c.all {
		d := &c.defs[i]
		switch d.Kind {
		case KindMetric:
			p := c.byMetric[d.Metric]
			p.direct = append(p.direct, i)
			c.byMetric[d.Metric] = p
		case KindStreak:
			p := c.byStreak[d.Streak]
			p.direct = append(p.direct, i)
			c.byStreak[d.Streak] = p
		}
	}
	for k, p := range c.byMetric {
		p.composites = c.closure(p.direct, dependents)
		c.byMetric[k] = p
	}
	for k, p := range c.byStreak {
		p.composites = c.closure(p.direct, dependents)
		c.byStreak[k] = p
	}
}

// closure returns the composites depending on any of from, transitively,
// sorted by rank (so prerequisites are evaluated first).
func (c *Catalog) closure(from []int, dependents [][]int) []int {
	seen := make(map[int]bool)
	stack := slices.Clone(from)
	var out []int
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, j := range dependents[i] {
			if !seen[j] {
				seen[j] = true
				out = append(out, j)
				stack = append(stack, j)
			}
		}
	}
	slices.SortFunc(out, func(a, b int) int { return c.rank[a] - c.rank[b] })
	return out
}

// Len returns the number of definitions.
func (c *Catalog) Len() int { return len(c.or().defs) }

// or returns c, or an empty Catalog for nil.
func (c *Catalog) or() *Catalog {
	if c == nil {
		return &Catalog{}
	}
	return c
}

// Get returns the definition with key.
func (c *Catalog) Get(key string) (Definition, bool) {
	c = c.or()
	i, ok := c.index[key]
	if !ok {
		return Definition{}, false
	}
	return c.defs[i].clone(), true
}

// Definitions returns copies of all definitions, in the order given to
// NewCatalog.
func (c *Catalog) Definitions() []Definition {
	c = c.or()
	out := make([]Definition, len(c.defs))
	for i := range c.defs {
		out[i] = c.defs[i].clone()
	}
	return out
}
