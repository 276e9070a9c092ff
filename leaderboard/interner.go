package leaderboard

import "math"

// Interner maps string user ids to compact uint32 ids, assigned densely from 0
// in order of first sight, so that indexes store 4-byte users and can look
// them up in a slice. One Interner serves every board of an engine.
//
// Ids live only in memory: the engine rebuilds the interner with its indexes
// at open, so they must never be persisted. An Interner is not safe for
// concurrent use; Lookup and Name may run concurrently with each other.
type Interner struct {
	ids   map[string]uint32
	names []string
}

// NewInterner returns an empty Interner with room for sizeHint users.
func NewInterner(sizeHint int) *Interner {
	return &Interner{ids: make(map[string]uint32, sizeHint), names: make([]string, 0, sizeHint)}
}

// ID returns the id of s, assigning the next free one on first sight. It
// panics once 2^32-1 ids are in use, a limit no in-process engine reaches.
func (in *Interner) ID(s string) uint32 {
	if id, ok := in.ids[s]; ok {
		return id
	}
	if len(in.names) >= math.MaxUint32 {
		panic("leaderboard: Interner is full")
	}
	if in.ids == nil {
		in.ids = make(map[string]uint32)
	}
	id := uint32(len(in.names))
	in.ids[s] = id
	in.names = append(in.names, s)
	return id
}

// Lookup returns the id of s without assigning one.
func (in *Interner) Lookup(s string) (uint32, bool) {
	id, ok := in.ids[s]
	return id, ok
}

// Name returns the string of id, or "" for an unknown or forgotten id.
func (in *Interner) Name(id uint32) string {
	if int64(id) >= int64(len(in.names)) {
		return ""
	}
	return in.names[id]
}

// Forget drops the string of id (after a user's hard delete, so that the
// process keeps no copy of it). The id is never reused; if the same string
// comes back, ID gives it a new one.
func (in *Interner) Forget(id uint32) {
	if int64(id) >= int64(len(in.names)) {
		return
	}
	if cur, ok := in.ids[in.names[id]]; ok && cur == id {
		delete(in.ids, in.names[id])
	}
	in.names[id] = ""
}

// Len returns the number of ids assigned, forgotten ones included.
func (in *Interner) Len() int { return len(in.names) }
