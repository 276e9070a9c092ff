package achievement

import (
	"errors"
	"fmt"
	"slices"

	"github.com/gamifykit/gamify/gamifytype"
)

// Kind says how an achievement is completed.
type Kind uint8

// The kinds. The zero Kind is invalid, so a definition must choose one.
const (
	KindMetric    Kind = iota + 1 // a metric total (or filtered sum) reaches Threshold
	KindStreak                    // a streak reaches Length
	KindManual                    // completed by a call to Complete
	KindComposite                 // every achievement in Prerequisites is completed
)

var kindNames = [...]string{"", "metric", "streak", "manual", "composite"}

// String returns "metric", "streak", "manual" or "composite".
func (k Kind) String() string {
	if k != 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Status is the life-cycle state of a definition: Inactive -> Active <-> Locked.
type Status uint8

// The statuses. The zero Status is Inactive, so a new definition completes
// for nobody until it is activated.
const (
	Inactive Status = iota // not evaluated, hidden
	Active                 // evaluated, visible
	Locked                 // no new completions; holders keep and see it
)

var statusNames = [...]string{"inactive", "active", "locked"}

// String returns "inactive", "active" or "locked".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// Rarity is the rarity label shown with a badge. It is presentation only;
// the measured rarity is RarityPercent.
type Rarity uint8

// The rarity labels. The zero Rarity is Common.
const (
	Common Rarity = iota
	Rare
	Epic
	Legendary
)

var rarityNames = [...]string{"common", "rare", "epic", "legendary"}

// String returns "common", "rare", "epic" or "legendary".
func (r Rarity) String() string {
	if int(r) < len(rarityNames) {
		return rarityNames[r]
	}
	return fmt.Sprintf("Rarity(%d)", uint8(r))
}

// Limits checked by Validate.
const (
	MaxPrerequisites = 32                    // prerequisites of a composite
	MaxFilters       = 16                    // entries in EventFilters or UserFilters
	MaxTextLen       = gamifytype.MaxNameLen // Name, Category and filter values, in bytes
	MaxDescLen       = gamifytype.MaxTextLen // Description, in bytes
	MaxURLLen        = gamifytype.MaxURLLen  // BadgeURL, in bytes
	MaxStreakLength  = 1 << 20
)

// Definition is an achievement (badge) definition. Which fields matter
// depends on Kind: Metric, Threshold and EventFilters for KindMetric; Streak
// and Length for KindStreak; Prerequisites for KindComposite. Fields of the
// other kinds must be left zero. UserFilters gate every kind: a user
// qualifies only when each listed attribute has the listed value.
type Definition struct {
	Key         string
	Name        string
	Description string
	BadgeURL    string
	Category    string
	Rarity      Rarity
	Order       int // display order, ascending
	Kind        Kind
	Status      Status

	Metric       string
	Threshold    gamifytype.Amount
	EventFilters map[string]string

	Streak string
	Length int

	Prerequisites []string

	UserFilters map[string]string
}

// Validate reports every invalid field of d, joined. Cross-definition rules
// (prerequisites exist, no cycles) are checked by NewCatalog.
func (d *Definition) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(gamifytype.ValidateKey("Achievement.Key", d.Key))
	text := func(field, v string, limit int) { add(gamifytype.CheckText(field, v, limit)) }
	text("Achievement.Name", d.Name, MaxTextLen)
	text("Achievement.Description", d.Description, MaxDescLen)
	text("Achievement.BadgeURL", d.BadgeURL, MaxURLLen)
	text("Achievement.Category", d.Category, MaxTextLen)
	if d.Rarity > Legendary {
		add(gamifytype.Invalid("Achievement.Rarity", uint8(d.Rarity), "must be common, rare, epic or legendary"))
	}
	if d.Status > Locked {
		add(gamifytype.Invalid("Achievement.Status", uint8(d.Status), "must be inactive, active or locked"))
	}
	metric, streak, composite := d.Kind == KindMetric, d.Kind == KindStreak, d.Kind == KindComposite
	if d.Kind < KindMetric || d.Kind > KindComposite {
		add(gamifytype.Invalid("Achievement.Kind", uint8(d.Kind), "must be metric, streak, manual or composite"))
	}
	// Fields of another kind are rejected rather than ignored: a manual
	// achievement with a Threshold is almost certainly a mistake.
	if metric {
		add(gamifytype.ValidateKey("Achievement.Metric", d.Metric))
		if d.Threshold.Sign() <= 0 {
			add(gamifytype.Invalid("Achievement.Threshold", d.Threshold, "must be positive"))
		}
	} else {
		if d.Metric != "" {
			add(gamifytype.Invalid("Achievement.Metric", d.Metric, "is only for metric achievements"))
		}
		if !d.Threshold.IsZero() {
			add(gamifytype.Invalid("Achievement.Threshold", d.Threshold, "is only for metric achievements"))
		}
		if len(d.EventFilters) != 0 {
			add(gamifytype.Invalid("Achievement.EventFilters", len(d.EventFilters), "are only for metric achievements"))
		}
	}
	add(validateFilters("Achievement.EventFilters", d.EventFilters))
	add(validateFilters("Achievement.UserFilters", d.UserFilters))
	if streak {
		add(gamifytype.ValidateKey("Achievement.Streak", d.Streak))
		if d.Length < 1 || d.Length > MaxStreakLength {
			add(gamifytype.Invalid("Achievement.Length", d.Length, fmt.Sprintf("must be between 1 and %d", MaxStreakLength)))
		}
	} else {
		if d.Streak != "" {
			add(gamifytype.Invalid("Achievement.Streak", d.Streak, "is only for streak achievements"))
		}
		if d.Length != 0 {
			add(gamifytype.Invalid("Achievement.Length", d.Length, "is only for streak achievements"))
		}
	}
	if composite {
		if len(d.Prerequisites) == 0 || len(d.Prerequisites) > MaxPrerequisites {
			add(gamifytype.Invalid("Achievement.Prerequisites", len(d.Prerequisites), fmt.Sprintf("must list 1 to %d achievements", MaxPrerequisites)))
		}
		for i, p := range d.Prerequisites[:min(len(d.Prerequisites), MaxPrerequisites)] {
			f := fmt.Sprintf("Achievement.Prerequisites[%d]", i)
			switch err := gamifytype.ValidateKey(f, p); {
			case err != nil:
				add(err)
			case p == d.Key:
				add(gamifytype.Invalid(f, p, "must not be the achievement itself"))
			case slices.Contains(d.Prerequisites[:i], p):
				add(gamifytype.Invalid(f, p, "is listed twice"))
			}
		}
	} else if len(d.Prerequisites) != 0 {
		add(gamifytype.Invalid("Achievement.Prerequisites", len(d.Prerequisites), "are only for composite achievements"))
	}
	return errors.Join(errs...)
}

func validateFilters(field string, m map[string]string) error {
	if len(m) > MaxFilters {
		return gamifytype.Invalid(field, len(m), fmt.Sprintf("must have at most %d entries", MaxFilters))
	}
	var errs []error
	for _, k := range sortedKeys(m) {
		f := field + "[" + k + "]"
		if err := gamifytype.ValidateKey(f, k); err != nil {
			errs = append(errs, err)
		}
		if err := gamifytype.CheckText(f, m[k], MaxTextLen); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sortedKeys returns the keys of m in order, so errors come out deterministically.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// matches reports whether attrs has every key of filters with the same value.
func matches(filters, attrs map[string]string) bool {
	for k, v := range filters {
		if got, ok := attrs[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// Gated reports whether the user with attrs is kept out of d by UserFilters.
func (d *Definition) Gated(userAttrs map[string]string) bool {
	return !matches(d.UserFilters, userAttrs)
}

// clone copies d's maps and slices, so a Catalog cannot be changed through
// the definitions it was built from.
func (d Definition) clone() Definition {
	d.EventFilters = cloneMap(d.EventFilters)
	d.UserFilters = cloneMap(d.UserFilters)
	d.Prerequisites = slices.Clone(d.Prerequisites)
	return d
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}
