package gamify_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImportDirection keeps docs/design.md#packages-and-imports true: only store
// imports bbolt, only jetstream nats.go and only internal/natscluster
// nats-server, the pure domain packages import neither store nor the root
// package (nor ledger, which works on stored entries), and gamifytype and
// cmdlog import the standard library only.
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	require.NoError(t, err)
	const mod = "github.com/gamifykit/gamify"
	pure := map[string]bool{"streak": true, "points": true, "achievement": true, "leaderboard": true, "schedule": true, "gamifytype": true}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		require.NoError(t, dec.Decode(&p))
		seen++
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, mod), "/")
		top := strings.Split(rel, "/")[0]
		for _, imp := range p.Imports {
			if strings.HasPrefix(imp, "go.etcd.io/bbolt") && top != "store" {
				t.Errorf("%s imports %s: only store may import bbolt", p.ImportPath, imp)
			}
			if strings.HasPrefix(imp, "github.com/nats-io/nats.go") && top != "jetstream" {
				t.Errorf("%s imports %s: only jetstream may import nats.go", p.ImportPath, imp)
			}
			if strings.HasPrefix(imp, "github.com/nats-io/nats-server") && rel != "internal/natscluster" {
				t.Errorf("%s imports %s: only internal/natscluster (tests, the example, bench) may import nats-server", p.ImportPath, imp)
			}
			if pure[top] && (imp == mod || strings.HasPrefix(imp, mod+"/store") || strings.HasPrefix(imp, mod+"/ledger")) {
				t.Errorf("%s imports %s: domain packages are pure", p.ImportPath, imp)
			}
			if (top == "gamifytype" || top == "cmdlog") && strings.Contains(imp, ".") {
				t.Errorf("%s imports %s: the vocabulary leaf and the command log use the standard library only", p.ImportPath, imp)
			}
			if top == "store" && strings.HasPrefix(imp, mod) && imp != mod+"/gamifytype" {
				t.Errorf("%s imports %s: store knows no game rules", p.ImportPath, imp)
			}
		}
	}
	require.Greater(t, seen, 3)
}
