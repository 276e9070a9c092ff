package gamify

// UserBoostRetired reports whether the per-user boost key of user has left
// the hot rules: not among the user's live boosts nor any system's rules,
// and kept among the user's retired ones.
func UserBoostRetired(e *Engine, user, key string) bool {
	p := e.cat.Load().points
	for _, b := range p.userBoosts[user] {
		if b.Key == key {
			return false
		}
	}
	for _, r := range p.rules {
		for _, b := range r.Boosts {
			if b.Key == key {
				return false
			}
		}
	}
	for _, b := range p.retiredBoosts[user] {
		if b.Key == key {
			return true
		}
	}
	return false
}
