// Package leaderboard holds the in-memory leaderboard indexes: a generic
// counted B+tree (Tree), the per-board Index built on it, and the Interner
// that maps string user ids to the compact ids the indexes store.
//
// Why a counted tree: every event result carries a rank and a previous rank,
// and queries ask for the entry at rank k, the top N or the entries around a
// user. google/btree keeps order but no subtree sizes, so a rank means
// walking the tree (about 6 ms at 1M entries). Here each inner node stores,
// per child, the number of entries below it and the number of tie groups
// starting below it, so rank, select, insert and delete are O(log n), and a
// dense rank costs no second structure.
//
// Ordering: (score, subscore) in the board's direction (Desc by default),
// then Reached ascending (whoever reached the score first is listed first),
// then user id. Ranks follow from positions: Unique = position+1;
// Competition = 1 + entries with a better (score, subscore); Dense = 1 +
// distinct better (score, subscore) values.
//
// Memory layout (about 42 bytes per entry at 1M after a rebuild, 44 after
// heavy churn, lookup included): the 32-byte Entry is stored inline in leaves
// of up to 63 entries, 2040 bytes that fill one 2048-byte size class and hold
// no pointers, so the GC never scans them. Leaves are linked by uint32 ids
// for in-order walks and know their parent by id. Inner nodes, about one per
// 50 leaves, hold separator keys, child counts and pointers. A user is found
// through a 4-byte handle (the id of the leaf holding its entry) that the
// tree updates whenever it moves an entry; handles sit in a slice indexed by
// user id, or in a map when a board's ids are sparse in the id space. From
// the handle a rank needs no key comparison: scan the leaf, then sum the
// counts left of the path on the way up through the parents.
//
// Updates of present users do not allocate: nodes freed by merges are reused
// by splits. Nothing here is safe for concurrent writes; read-only methods
// may run concurrently. The engine guards each Index with a RWMutex and
// applies changes after commit. Time never enters this package: Reached is a
// sequence the caller supplies.
package leaderboard
