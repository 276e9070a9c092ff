package gamify_test

import (
	"context"
	"fmt"

	"github.com/gamifykit/gamify"
)

// A mailer reads the outbox with a durable consumer: it fetches, sends, and
// acknowledges; after a restart it would resume after its last Ack.
func ExampleOutboxAPI_Consumer() {
	ctx := context.Background()
	eng, _, done := clockEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons completed"})
	eng.Achievements().Create(ctx, gamify.Achievement{Key: "first", Name: "First lesson", Kind: gamify.AchievementMetric,
		Metric: "lessons", Threshold: gamify.AmountFromInt(1)})
	eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1})

	mailer, err := eng.Outbox().Consumer(ctx, "mailer")
	if err != nil {
		panic(err)
	}
	entries, err := mailer.Fetch(ctx, 10)
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		switch n := e.Notification.(type) {
		case gamify.UserCreated:
			fmt.Println(e.Seq, "welcome mail to", n.User)
		case gamify.AchievementCompleted:
			fmt.Println(e.Seq, "congratulations to", n.User, "for", n.Name)
		}
	}
	if err := mailer.Ack(ctx, entries[len(entries)-1].Seq); err != nil {
		panic(err)
	}
	infos, _ := eng.Outbox().Consumers(ctx)
	fmt.Println(infos[0].Name, "acked", infos[0].Acked, "pending", infos[0].Pending)
	// Output:
	// 1 welcome mail to ana
	// 2 congratulations to ana for First lesson
	// mailer acked 2 pending 0
}
