package gamify

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gamifykit/gamify/achievement"
	"github.com/gamifykit/gamify/leaderboard"
	"github.com/gamifykit/gamify/ledger"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/schedule"
	"github.com/gamifykit/gamify/store"
	"github.com/gamifykit/gamify/streak"
)

// migrateV2 upgrades a file of schema version 2 (the first release) to
// version 3. What changed, record kind by record kind:
//
//   - Definitions (JSON). Amounts were integers of millionths and are
//     decimal strings; enums were numbers and are names. Achievements:
//     BadgeURL is ImageURL, Archived and the numeric Status are one Status,
//     and a creation order (seq) was added. Attributes and tenants gained a
//     creation order (ref). Streaks: Min was a float. Leaderboards: Order,
//     Ties and the run unit are names, the activated and archived flags are
//     the stored Status, dates are "2006-01-02". Rewards: Active is Status.
//     Triggers: Active is Status. Triggers, boosts and levels gained Status,
//     Created, Updated and a creation order; a system's levels were one
//     list (points-levels/<system>) and are one record each
//     (points-level/<system>/<key>) with a Level number and an Order.
//   - Profiles (users): the streak thresholds of preferences were floats.
//   - State records: each rank-history day gained the day's score and the
//     rank and score before the day's first change. v2 did not keep them:
//     they are written as 0 (DailyRank reads them as 0, "not ranked").
//   - Award log records (version 1 → 2) gained the award's time: that of
//     the ledger entry at the same sequence.
//   - Claims (JSON): Cost is a decimal string; RewardName and RewardType
//     (from the reward as it is now: v2 kept neither) and Balance (the
//     available points after the claim, summed from the ledger) were added.
//
// Unchanged: the ledger, day aggregates, idempotency records (v2's have no
// payload fingerprint and replay for any payload, as they did), jobs,
// frozen runs, codes, user ids and counters. Creation orders unknown to v2
// follow creation time, then key; triggers, boosts and levels, which had
// no creation time, take their system's (a claim's boost its start, a time
// trigger its Since), in the system's level order, then by key.
func migrateV2(m *store.MigrationTx) error {
	defs := map[string]map[string]any{}
	levels := map[string][]map[string]any{} // system → its v2 level list
	var keys []string
	if err := m.Each(store.Definitions, func(k, v []byte) error {
		keys = append(keys, string(k))
		if sys, ok := strings.CutPrefix(string(k), "points-levels/"); ok {
			d := json.NewDecoder(bytes.NewReader(v))
			d.UseNumber()
			var list []map[string]any
			if err := d.Decode(&list); err != nil {
				return fmt.Errorf("definition %s: %w", k, err)
			}
			levels[sys] = list
			return nil
		}
		d, err := decodeJSON(v)
		if err != nil {
			return fmt.Errorf("definition %s: %w", k, err)
		}
		defs[string(k)] = d
		return nil
	}); err != nil {
		return err
	}
	mg := v2Migration{m: m, defs: defs, levels: levels}
	for _, step := range []func() error{mg.definitions, mg.profiles, mg.states, mg.awards, mg.claims} {
		if err := step(); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if _, ok := defs[k]; !ok {
			if err := m.Delete(store.Definitions, []byte(k)); err != nil {
				return err
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(defs)) { // in order, so the file's layout is the same each time
		d := defs[k]
		v, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("definition %s: %w", k, err)
		}
		if err := m.Put(store.Definitions, []byte(k), v); err != nil {
			return err
		}
	}
	// What was written must load as this build's catalogue.
	_, err := loadDefinitions(func(fn func(k, v []byte) error) error { return m.Each(store.Definitions, fn) }, time.UTC)
	if err != nil {
		return fmt.Errorf("migrated definitions do not load: %w", err)
	}
	return nil
}

type v2Migration struct {
	m      *store.MigrationTx
	defs   map[string]map[string]any // key → JSON object, rewritten in place
	levels map[string][]map[string]any
}

// decodeJSON decodes an object keeping numbers exact.
func decodeJSON(v []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	var o map[string]any
	if err := d.Decode(&o); err != nil {
		return nil, err
	}
	if o == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return o, nil
}

// v2Errors collects the first error of the conversions of one record.
type v2Errors struct {
	key string
	err error
}

func (e *v2Errors) fail(field string, v any) {
	if e.err == nil {
		e.err = fmt.Errorf("definition %s: %s %v is not a valid v2 value", e.key, field, v)
	}
}

// int reads an integer field (0 when absent).
func (e *v2Errors) int(o map[string]any, field string) int64 {
	v, ok := o[field]
	if !ok || v == nil {
		return 0
	}
	n, isNum := v.(json.Number)
	i, err := n.Int64()
	if !isNum || err != nil {
		e.fail(field, v)
	}
	return i
}

// amount turns a field of millionths into a decimal string.
func (e *v2Errors) amount(o map[string]any, field string) {
	if _, ok := o[field]; ok {
		o[field] = AmountFromMicros(e.int(o, field)).String()
	}
}

// enum turns a numeric field into its name; absent is 0.
func (e *v2Errors) enum(o map[string]any, field string, name func(int64) (string, bool)) {
	n := e.int(o, field)
	s, ok := name(n)
	if !ok {
		e.fail(field, n)
	}
	o[field] = s
}

// date turns a {Year, Month, Day} object into "2006-01-02" ("" for zero).
func (e *v2Errors) date(o map[string]any, field string) {
	v, ok := o[field]
	if !ok {
		return
	}
	d, isObj := v.(map[string]any)
	if !isObj {
		e.fail(field, v)
		return
	}
	o[field] = Date{Year: int(e.int(d, "Year")), Month: time.Month(e.int(d, "Month")), Day: int(e.int(d, "Day"))}
}

func (e *v2Errors) time(o map[string]any, field string) time.Time {
	s, _ := o[field].(string)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		e.fail(field, s)
	}
	return t
}

func str(o map[string]any, field string) string { s, _ := o[field].(string); return s }

// named returns a name function over a pure package's String method,
// valid from lo to hi.
func named[T ~uint8](lo, hi T, lower bool) func(int64) (string, bool) {
	return func(n int64) (string, bool) {
		if n < int64(lo) || n > int64(hi) {
			return "", false
		}
		s := fmt.Sprint(T(n))
		if lower {
			s = strings.ToLower(s)
		}
		return s, true
	}
}

func (mg *v2Migration) definitions() error {
	byPrefix := func(prefix string) []string {
		var ks []string
		for k := range mg.defs {
			if strings.HasPrefix(k, prefix) {
				ks = append(ks, k)
			}
		}
		slices.Sort(ks)
		return ks
	}
	// inOrder sorts keys by the definitions' creation time, then key, and
	// calls fn with positions from 1.
	inOrder := func(ks []string, e *v2Errors, fn func(d map[string]any, n int)) {
		slices.SortStableFunc(ks, func(a, b string) int {
			return e.time(mg.defs[a], "Created").Compare(e.time(mg.defs[b], "Created"))
		})
		for i, k := range ks {
			fn(mg.defs[k], i+1)
		}
	}
	e := &v2Errors{}
	inOrder(byPrefix(defAttribute), e, func(d map[string]any, n int) { d["ref"] = n })
	inOrder(byPrefix(defTenant), e, func(d map[string]any, n int) { d["ref"] = n })
	achs := byPrefix(defAchievement)
	inOrder(achs, e, func(d map[string]any, n int) { d["seq"] = n })
	for _, k := range achs {
		d := mg.defs[k]
		e.key = k
		d["ImageURL"] = d["BadgeURL"]
		delete(d, "BadgeURL")
		e.enum(d, "Rarity", named(achievement.Common, achievement.Legendary, false))
		e.enum(d, "Kind", named(achievement.KindMetric, achievement.KindComposite, false))
		e.enum(d, "Status", named(achievement.Inactive, achievement.Locked, false))
		if d["Archived"] == true {
			d["Status"] = string(StatusArchived)
		}
		delete(d, "Archived")
		e.amount(d, "Threshold")
	}
	for _, k := range byPrefix(defStreak) {
		d := mg.defs[k]
		e.key = k
		e.enum(d, "Frequency", named(streak.Daily, streak.Monthly, false))
		e.enum(d, "Mode", named(streak.ModeAll, streak.ModeAny, false))
		e.enum(d, "WeekStart", func(n int64) (string, bool) {
			if n == 0 {
				return "", true
			}
			return named(streak.Monday, streak.Sunday, true)(n)
		})
		if d["Frequency"] == string(StreakWeekly) && d["WeekStart"] == "" {
			d["WeekStart"] = string(Monday)
		}
		ms, _ := d["Metrics"].([]any)
		for i, x := range ms {
			r, ok := x.(map[string]any)
			n, isNum := r["Min"].(json.Number)
			a, err := ParseAmount(n.String())
			if !ok || !isNum || err != nil {
				e.fail(fmt.Sprintf("Metrics[%d].Min", i), r["Min"])
				continue
			}
			r["Min"] = a.String()
		}
	}
	for _, k := range byPrefix(defBoard) {
		d := mg.defs[k]
		e.key = k
		e.enum(d, "Order", named(leaderboard.Desc, leaderboard.Asc, true))
		e.enum(d, "Ties", named(leaderboard.Competition, leaderboard.Unique, true))
		u := e.int(d, "unit")
		if u != 0 {
			if u < int64(schedule.Day) || u > int64(schedule.Year) {
				e.fail("unit", u)
			}
			d["RunUnit"] = schedule.Unit(u).String()
		}
		switch {
		case d["archived"] == true:
			d["Status"] = string(StatusArchived)
		case d["activated"] == true:
			d["Status"] = string(StatusActive) // scheduled and finished follow from the clock
		default:
			d["Status"] = string(StatusInactive)
		}
		delete(d, "unit")
		delete(d, "archived")
		e.date(d, "Start")
		e.date(d, "End")
	}
	for _, k := range byPrefix(defReward) {
		d := mg.defs[k]
		e.key = k
		e.amount(d, "Cost")
		e.amount(d, "Multiplier")
		d["Status"] = string(StatusInactive)
		if d["Active"] == true {
			d["Status"] = string(StatusActive)
		}
		delete(d, "Active")
	}
	mg.pointsDefs(e, byPrefix)
	return e.err
}

// pointsDefs converts systems, triggers, boosts and levels.
func (mg *v2Migration) pointsDefs(e *v2Errors, byPrefix func(string) []string) {
	created := map[string]any{} // system key → its Created
	for _, k := range byPrefix(defSystem) {
		d := mg.defs[k]
		e.key = k
		e.amount(d, "MaxPoints")
		created[str(d, "Key")] = d["Created"]
	}
	var seq uint64
	stampSeq := func(d map[string]any, at any) {
		seq++
		d["seq"] = seq
		d["Created"], d["Updated"] = at, at
	}
	// Levels first, system by system in creation (ref) order, each in its
	// list's order, which is the ladder's.
	syss := slices.Collect(maps.Keys(mg.levels))
	slices.SortFunc(syss, func(a, b string) int {
		return cmp.Or(cmp.Compare(e.int(mg.defs[defSystem+a], "ref"), e.int(mg.defs[defSystem+b], "ref")), cmp.Compare(a, b))
	})
	for _, sys := range syss {
		list := mg.levels[sys]
		e.key = "points-levels/" + sys
		// Numbers follow thresholds, lowest first (v2 thresholds are distinct).
		order := make([]int, len(list))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int {
			return cmp.Compare(e.int(list[a], "Threshold"), e.int(list[b], "Threshold"))
		})
		number := make([]int, len(list))
		for n, i := range order {
			number[i] = n + 1
		}
		for i, l := range list {
			e.amount(l, "Threshold")
			e.amount(l, "Multiplier")
			l["System"], l["Level"], l["Order"], l["Status"] = sys, number[i], number[i], string(StatusActive)
			stampSeq(l, created[sys])
			mg.defs[defLevel+sys+"/"+str(l, "Key")] = l
		}
	}
	for _, k := range byPrefix(defTrigger) {
		d := mg.defs[k]
		e.key = k
		e.enum(d, "Kind", named(points.KindMetric, points.KindUserCreated, false))
		e.amount(d, "Points")
		e.amount(d, "Threshold")
		if e.int(d, "Unit") == 0 {
			delete(d, "Unit")
		} else {
			e.enum(d, "Unit", named(points.Hours, points.Days, false))
		}
		d["Status"] = string(StatusInactive)
		if d["Active"] == true {
			d["Status"] = string(StatusActive)
		}
		delete(d, "Active")
		at := created[str(d, "System")]
		if d["Kind"] == string(TriggerTime) && str(d, "Since") != "" {
			at = d["Since"]
		}
		stampSeq(d, at)
	}
	for _, k := range byPrefix(defBoost) {
		d := mg.defs[k]
		e.key = k
		e.enum(d, "Scope", named(points.Global, points.PerUser, false))
		e.enum(d, "Rounding", named(points.RoundDown, points.RoundNearest, false))
		e.amount(d, "Multiplier")
		e.date(d, "From")
		e.date(d, "To")
		d["Status"] = string(StatusActive)
		at := created[str(d, "System")]
		if d["Scope"] == string(BoostUser) && strings.HasPrefix(str(d, "Key"), "claim-") {
			at = d["Start"]
		}
		stampSeq(d, at)
	}
}

// profiles rewrites the preferences' streak thresholds as decimals.
func (mg *v2Migration) profiles() error {
	return mg.m.Each(store.Users, func(k, v []byte) error {
		o, err := decodeJSON(v)
		if err != nil {
			return fmt.Errorf("profile %q: %w", k, err)
		}
		prefs, _ := o["preferences"].(map[string]any)
		st, _ := prefs["streak"].(map[string]any)
		th, _ := st["thresholds"].(map[string]any)
		if len(th) == 0 {
			return nil
		}
		for metric, x := range th {
			n, _ := x.(json.Number)
			a, err := ParseAmount(n.String())
			if err != nil {
				return fmt.Errorf("profile %q: streak threshold %s: %w", k, metric, err)
			}
			th[metric] = a
		}
		var p profile // re-encoded in this build's form
		b, err := json.Marshal(o)
		if err == nil {
			err = json.Unmarshal(b, &p)
		}
		if err == nil {
			b, err = json.Marshal(p)
		}
		if err != nil {
			return fmt.Errorf("profile %q: %w", k, err)
		}
		return mg.m.Put(store.Users, k, b)
	})
}

// states rewrites user state records with the v3 rank-history days.
func (mg *v2Migration) states() error {
	return mg.m.Each(store.State, func(k, v []byte) error {
		var s userState
		if err := s.decode(v, true); err != nil {
			return fmt.Errorf("state of user %x: %w", k, err)
		}
		if len(s.Ranks) == 0 {
			return nil
		}
		return mg.m.Put(store.State, k, s.marshal(nil))
	})
}

// awards rewrites version-1 award records with the time of their ledger
// entry.
func (mg *v2Migration) awards() error {
	return mg.m.Each(store.Awards, func(k, v []byte) error {
		if len(v) < 1 || v[0] != 1 {
			return fmt.Errorf("award %x: %w", k, errCorruptAward)
		}
		lv, err := mg.m.Get(store.Ledger, k)
		if err != nil {
			return err
		}
		le, err := ledger.Unmarshal(k, lv)
		if lv == nil || err != nil {
			return fmt.Errorf("award %x: no ledger entry at its sequence", k)
		}
		// Version 2 inserts the time after the user and the system.
		d := decoder{b: v[1:]}
		d.uvarint()
		d.uvarint()
		if d.err {
			return fmt.Errorf("award %x: %w", k, errCorruptAward)
		}
		nv := append([]byte(nil), v[:len(v)-len(d.b)]...)
		nv = append(binary.AppendVarint(nv, le.At), d.b...)
		nv[0] = awardVersion
		var r awardRecord
		if err := r.unmarshal(nv); err != nil {
			return fmt.Errorf("award %x: %w", k, err)
		}
		return mg.m.Put(store.Awards, k, nv)
	})
}

// claims rewrites claims with decimal costs, the reward's name and type and
// the balance after them. The ledger is read once, for the owners of claims.
func (mg *v2Migration) claims() error {
	type owner struct {
		uid uint64
		ref uint32 // the reward's points system; 0 for none
	}
	type claim struct {
		key   []byte
		rec   map[string]any
		owner owner
	}
	systems := map[string]uint32{}
	for k, d := range mg.defs {
		if strings.HasPrefix(k, defSystem) {
			systems[str(d, "Key")] = uint32(new(v2Errors).int(d, "ref"))
		}
	}
	var claims []claim
	owners := map[owner][]ledger.Entry{}
	if err := mg.m.Each(store.Claims, func(k, v []byte) error {
		c, err := decodeJSON(v)
		if err != nil || len(k) < 8 {
			return fmt.Errorf("claim %x: corrupt", k)
		}
		r, ok := mg.defs[defReward+str(c, "Reward")]
		if !ok {
			return fmt.Errorf("claim %x: reward %q is not defined", k, str(c, "Reward"))
		}
		c["RewardName"], c["RewardType"] = r["Name"], r["Type"]
		o := owner{binary.BigEndian.Uint64(k), systems[str(r, "System")]}
		if o.ref != 0 {
			owners[o] = nil
		}
		claims = append(claims, claim{k, c, o})
		return nil
	}); err != nil {
		return err
	}
	if len(owners) > 0 {
		if err := mg.m.Each(store.Ledger, func(k, v []byte) error {
			le, err := ledger.Unmarshal(k, v)
			if err != nil {
				return fmt.Errorf("ledger entry %x: %w", k, err)
			}
			o := owner{le.User, le.Ref}
			if es, ok := owners[o]; ok && (le.Kind == ledgerAward || le.Kind == ledgerSpend) {
				owners[o] = append(es, le)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	for _, c := range claims {
		e := &v2Errors{key: fmt.Sprintf("claim %x", c.key)}
		e.amount(c.rec, "Cost")
		seq := binary.BigEndian.Uint64(c.key[len(c.key)-8:])
		balance := Amount{}
		for _, le := range owners[c.owner] { // in sequence order
			if le.Seq >= seq {
				break
			}
			if le.Kind == ledgerSpend {
				balance = balance.Sub(le.Delta)
			} else {
				balance = balance.Add(le.Delta)
			}
		}
		c.rec["Balance"] = balance.String()
		if e.err != nil {
			return e.err
		}
		b, err := json.Marshal(c.rec)
		if err == nil {
			err = mg.m.Put(store.Claims, c.key, b)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
