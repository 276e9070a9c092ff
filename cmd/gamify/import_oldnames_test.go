package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// oldNamesExport is what gamify export wrote before Level.Colour,
// Challenge.Enrolment and ChallengeObjective.Filters were renamed Color,
// Enrollment and EventFilters (a run of that build).
var oldNamesExport = []string{
	`{"kind":"header","format":"gamify-export","version":1,"created":"2026-12-03T18:54:33.211521507Z"}`,
	`{"kind":"attribute","data":{"Key":"mode","Name":"Mode","Type":"event","Status":"active","Created":"2026-03-08T12:00:00Z","Updated":"2026-03-08T12:00:00Z"}}`,
	`{"kind":"metric","data":{"Key":"xp","Name":"XP","Description":"","ImageURL":"","UnitType":"number","Units":"","Status":"active","Created":"2026-03-08T12:00:00Z","Updated":"2026-03-08T12:00:00Z"}}`,
	`{"kind":"points","data":{"Key":"coins","Name":"Coins","Description":"","ImageURL":"","MaxPoints":"0","Status":"active","Created":"2026-03-08T12:00:00Z","Updated":"2026-03-08T12:00:00Z"}}`,
	`{"kind":"level","data":{"System":"coins","Key":"gold","Level":1,"Order":0,"Name":"Gold","Colour":"#ffd700","Threshold":"100","Status":"active","Created":"2026-03-08T12:00:00Z","Updated":"2026-03-08T12:00:00Z"}}`,
	`{"kind":"challenge","data":{"Key":"ranked","Name":"Ranked","Description":"","Window":"perpetual","Enrolment":"automatic","Objectives":[{"Key":"r","Name":"","Metric":"xp","Count":"","Filters":{"mode":"ranked"},"Target":"10"}],"Completion":{"Points":"0"},"Status":"active","Created":"2026-03-08T12:00:00Z","Updated":"2026-03-08T12:00:00Z"}}`,
	`{"kind":"user","data":{"ID":"ana","Name":"","Email":"","TZ":"","Attributes":null,"DeviceTokens":null,"SubscribeToEmails":true,"Created":"2026-03-08T12:00:00Z","Updated":"2026-03-08T12:00:00Z","Active":true,"Control":false}}`,
	`{"kind":"challenges","data":[{"Challenge":"ranked","User":"ana","EnrolledAt":"2026-03-08T12:00:00Z","WindowStart":"2026-03-08T12:00:00Z","Objectives":[{"Key":"r","Progress":"3","Target":"10","Complete":false}],"Complete":0,"Milestones":[]}],"user":"ana"}`,
	`{"kind":"event","seq":1,"user":"ana","metric":"xp","amount":"3","time":"2026-03-08T12:00:00Z","key":"e1"}`,
	`{"kind":"end","counts":{"attribute":1,"challenge":1,"challenges":1,"end":1,"event":1,"header":1,"level":1,"metric":1,"points":1,"user":1}}`,
}

// An export written before the renames imports with the old names read
// into the new fields; importing it again finds the definitions unchanged.
func TestImportReadsOldFieldNames(t *testing.T) {
	dir := t.TempDir()
	in, db := filepath.Join(dir, "old.jsonl"), filepath.Join(dir, "g.db")
	writeLines(t, in, oldNamesExport)
	for range 2 {
		code, _, errs := runCmd("import", "--db", db, "--in", in)
		require.Equal(t, exitOK, code, errs)
	}
	ctx := context.Background()
	eng, err := gamify.Open(db, &gamify.Options{LockTimeout: time.Second})
	require.NoError(t, err)
	defer eng.Close()
	l, err := eng.Points().Levels("coins").Get(ctx, "gold")
	require.NoError(t, err)
	require.Equal(t, "#ffd700", l.Color)
	c, err := eng.Challenges().Get(ctx, "ranked")
	require.NoError(t, err)
	require.Equal(t, gamify.ChallengeAutomatic, c.Enrollment)
	require.Equal(t, map[string]string{"mode": "ranked"}, c.Objectives[0].EventFilters)
	p, err := eng.Challenges().Progress(ctx, "ranked", "ana")
	require.NoError(t, err)
	require.Equal(t, "3", p.Objectives[0].Progress.String())
}

// The old names are read, and a field neither name has is still refused:
// in a level, a challenge and a challenge's objective.
func TestImportRefusesUnknownFieldsOfRenamedTypes(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	for _, c := range []struct{ line, field string }{
		{`"Colour":"#ffd700"`, `"Colr":"#ffd700"`},
		{`"Enrolment":"automatic"`, `"Enrolement":"automatic"`},
		{`"Filters":{"mode":"ranked"}`, `"Filter":{"mode":"ranked"}`},
	} {
		t.Run(c.field, func(t *testing.T) {
			lines := make([]string, len(oldNamesExport))
			for i, l := range oldNamesExport {
				lines[i] = strings.Replace(l, c.line, c.field, 1)
			}
			writeLines(t, in, lines)
			code, _, errs := runCmd("import", "--db", filepath.Join(t.TempDir(), "g.db"), "--in", in)
			require.Equal(t, exitFailure, code, errs)
			name, _, _ := strings.Cut(c.field, ":")
			require.Contains(t, errs, "json: unknown field "+name)
		})
	}
}
