package points

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImports keeps the package pure: the standard library (without I/O,
// network or concurrency packages) and gamifytype only, and no clock.
func TestImports(t *testing.T) {
	forbidden := []string{"os", "io", "net", "sync", "database", "log", "unsafe", "syscall", "runtime"}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		require.NotContains(t, string(src), "time.Now(", "%s reads the clock", f)
		pf, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		require.NoError(t, err)
		for _, imp := range pf.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.Contains(p, ".") {
				require.Equal(t, "github.com/gamifykit/gamify/gamifytype", p, "%s imports %s", f, p)
				continue
			}
			for _, bad := range forbidden {
				require.False(t, p == bad || strings.HasPrefix(p, bad+"/"), "%s imports %s", f, p)
			}
		}
		checked++
	}
	require.Greater(t, checked, 4)
}
