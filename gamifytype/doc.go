// Package gamifytype is the shared vocabulary of gamify: the sentinel errors,
// ValidationError, definition keys and the exact fixed-point Amount. It imports
// only the standard library so that every other package, domain or engine, can
// depend on it without creating a cycle. The root package re-exports it.
package gamifytype
