// Package leaderboard holds the in-memory leaderboard indexes: a counted
// B+tree, the per-board Index built on it, and the Interner of user ids.
//
// Why a counted tree: every event result carries a rank and previous rank,
// and queries ask for the entry at rank k, top N or the entries around a
// user. google/btree keeps order but no subtree sizes, so a rank means
// walking the tree (about 6 ms at 1M entries). Here each inner node stores,
// per child, the number of entries below it (and the number of tie-group
// starts, for dense ranks), so rank, select and update are one root-to-leaf
// descent: O(log n).
//
// Ordering: (score, subscore) in the board's direction (desc by default),
// then Reached ascending (whoever reached the score first is listed first),
// then user id. Ranks under the Competition, Dense and Unique tie policies
// are derived from positions: competition = 1 + entries with a better score;
// dense = 1 + distinct better scores; unique = 1 + position.
//
// Memory: the 32-byte Entry is stored inline in leaves of up to 63 entries
// (2040 bytes, one 2048-byte size class); inner nodes are about 1/50 of the
// leaves. Users are found through a 4-byte handle per user (the id of the
// leaf holding the entry), kept current by the tree whenever it moves an
// entry, in a slice indexed by the interned user id, or a map when the
// board's ids are sparse. Updates of present users do not allocate.
//
// Nothing here is safe for concurrent writes; the engine guards each Index
// with a RWMutex and publishes changes after commit.
package leaderboard
