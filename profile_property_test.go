package gamify_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// TestProfileArrivalProperty: random event profiles (a plan set, sent
// again or deleted, a name, the control flag) delivered in random orders end
// in the same profile as in time order: a value belongs to its event's
// time, whether it changed or was sent again unchanged.
func TestProfileArrivalProperty(t *testing.T) {
	ctx := context.Background()
	vals := []string{"free", "pro", ""}
	for seed := uint64(1); seed <= 60; seed++ {
		rng := rand.New(rand.NewPCG(seed, 3))
		n := 3 + rng.IntN(5)
		type ev struct {
			h          int
			plan, name string
			ctl        *bool
			sendPlan   bool
		}
		var evs []ev
		hs := rng.Perm(20)[:n]
		for _, h := range hs {
			e := ev{h: h + 1, plan: vals[rng.IntN(3)], name: []string{"A", "B", ""}[rng.IntN(3)]}
			e.sendPlan = e.plan != "" || rng.IntN(2) == 0
			if rng.IntN(2) == 0 {
				b := rng.IntN(2) == 0
				e.ctl = &b
			}
			evs = append(evs, e)
		}
		var ref string
		for d := 0; d < 4; d++ {
			order := make([]ev, len(evs))
			copy(order, evs)
			switch d {
			case 0:
				for i := range order {
					for j := i + 1; j < len(order); j++ {
						if order[j].h < order[i].h {
							order[i], order[j] = order[j], order[i]
						}
					}
				}
			default:
				rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
			}
			te := openTest(t, nil)
			mustMetric(t, te.Engine, "xp")
			mustUserAttributes(t, te.Engine, "plan")
			te.clock.Set(t0.Add(24 * time.Hour))
			for i, e := range order {
				in := &gamify.UserInput{Name: e.name, Control: e.ctl}
				if e.sendPlan {
					in.Attributes = map[string]string{"plan": e.plan}
				}
				_ = i
				_, err := te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: t0.Add(time.Duration(e.h) * time.Hour), Profile: in})
				require.NoError(t, err)
				if d == 3 && i == len(order)/2 {
					te.reopen(t)
				}
			}
			u, err := te.Users().Get(ctx, "ana")
			require.NoError(t, err)
			got := fmt.Sprintf("plan=%q name=%q control=%v", u.Attributes["plan"], u.Name, u.Control)
			if d == 0 {
				ref = got
			} else {
				require.Equal(t, ref, got, "seed %d delivery %d events %+v order %+v", seed, d, evs, order)
			}
		}
	}
}
