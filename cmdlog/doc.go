// Package cmdlog is gamify's local command log: an append-only, checksummed
// log of opaque records, numbered by consecutive positions from 1, kept as
// segment files in a directory of its own. It is built for the engine to
// append every command before it is visible and fold the log into its store
// lazily: the store's checkpoint records the position it folded, and Trim
// drops what is folded. The package uses the standard library only.
//
// # Format
//
// A segment is named after the position of its first record, in 20 decimal
// digits and ".log" (00000000000000000001.log), so names sort in log order;
// files with other names in the directory are never touched. A segment is a
// sequence of frames, with no header:
//
//	length   4 bytes, big-endian: payload bytes (at most MaxRecord)
//	checksum 4 bytes, big-endian: CRC-32C (Castagnoli) of length, position and payload
//	position 8 bytes, big-endian
//	payload  length bytes
//
// The first frame of a segment holds the position of its name, and each frame
// the position after the previous one; the first frame of the next segment
// follows on from the last of the one before. Once a segment reaches
// Options.SegmentSize, the next Append fsyncs it (and the directory, if a
// segment was created since its last fsync) and starts a new one, so every
// segment but the last is complete on disk before a later one exists.
//
// The active segment's file goes on past its last frame in zeros: when its
// frames pass the zeros written before, Append writes 1 MiB more. Most
// appends then land in room the file already has, and their fsync writes no
// metadata (the file's size stays): on ext4, about a quarter less time than
// an fsync of a file that grew. A full segment is cut to its last frame
// before its successor is created, and so is the active one by Close and by
// Open.
//
// # Torn tails and damage
//
// Open checks every frame of every segment. A record is acknowledged only
// after a Sync that followed its Append, so a crash can leave only the end of
// the last segment incomplete. The rule:
//
//   - Zeros after the last good frame of the last segment, to the end of the
//     file, are padding (or writes that never reached the disk: a torn tail
//     whose bytes are all zero). An all-zero frame header is never a frame.
//   - A torn tail is a frame of the last segment that is incomplete (the file
//     ends inside it), declares more than MaxRecord bytes or fails its
//     checksum, with no good frame after it: no offset further on holds a
//     frame that passes its checksum with a position after the last good
//     record. Open truncates the segment at the start of that frame (and
//     fsyncs it), and TruncatedTail reports the bytes cut, up to the last
//     one that is not zero.
//   - Anything else is damage, reported as a *CorruptError (errors.Is
//     ErrCorrupt) naming the segment and the offset, and Open changes
//     nothing: a bad frame in any segment but the last, a bad frame of the
//     last segment with a good frame after it, a good frame whose position is
//     not the next one, and a segment that does not start at the position
//     after the previous segment's last (a gap or an overlap).
//
// Two limits follow. Damage to the final frame of the log cannot be told from
// a torn tail: that record is cut. And a crash that kept a later page of an
// unsynced write but not an earlier one (file systems do not promise the
// order) shows as a bad frame with a good one after it: Open refuses the log
// rather than guess, though nothing acknowledged was lost. Damage found
// later, by Read, is a *CorruptError too.
//
// # Failures
//
// A failed write is truncated back to the end of the previous Append and
// reported; the log stays usable (if the truncation fails too, the log is
// poisoned). A failed fsync poisons the log: every later Append, Sync and
// SetNext returns that error until the log is reopened (Read and Trim still
// work), because the kernel may have dropped the pages it failed to write,
// and a retried fsync would succeed without them. Whether records appended
// since the last successful Sync are on disk is then unknown: reopening keeps
// those that are, whole.
//
// Options.BeforeWrite and Options.BeforeSync are the fault-injection seams.
//
// # Concurrency
//
// Append, Sync, SetNext, Trim and Close must be called by one goroutine at a
// time (the engine's committer). Read, First, Last, Size and TruncatedTail
// may be called from any goroutine, also while that goroutine appends: Read
// sees the records appended before it started, each whole, and a Trim that
// runs meanwhile does not disturb it. A directory holds one open Log at a
// time; the engine's lock on its store file guarantees it.
//
// # Commands
//
// The package also holds what every engine command record shares, apart
// from the log itself: the command envelope (AppendCommand, ParseCommand:
// a format byte, the op's name, the time the command applies at, then the
// op's own arguments) and the checkpoint Policy (fold the log into the
// store after an interval or once a size is staged), which bounds the
// replay after a crash.
package cmdlog
