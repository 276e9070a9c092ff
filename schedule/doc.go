// Package schedule is the pure schedule math behind the engine's job runner:
// when does a job fall due next, and which period does an instant belong to.
//
// It offers cron expressions in a time zone (ParseCron), calendar rules that
// repeat every N days, weeks, months or years from an anchor (Every), and a
// due-queue ordered by (due time, job id) (Queue). Nothing here reads the
// clock, sleeps or does I/O: time is always a parameter, so the runner (and
// its tests, with a manual clock) decide what "now" is.
package schedule
