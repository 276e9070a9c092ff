package gamify

import "github.com/gamifykit/gamify/store"

// migrations upgrade files of older schema versions, one step per version;
// store.Open runs the ones a file needs, then those of its own layout
// (checksums from 3 to 4, the outbox keyspaces from 4 to 5), in one
// transaction after a backup.
var migrations = []store.Migration{
	{From: 2, Name: "v2 to v3: decimal amounts, statuses and creation order in definitions, claim, rank and award details", Run: migrateV2},
}
