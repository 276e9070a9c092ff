package gamify_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// TestOutboxStoresEveryNotificationType finds every type of the package with
// a UserID() string method (a Notification) and requires it registered with
// the outbox, whose encoder refuses unregistered types: a new notification
// that is not added would fail every commit that emits it.
func TestOutboxStoresEveryNotificationType(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var found []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range file.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Name.Name != "UserID" || fn.Type.Params.NumFields() != 0 {
				continue
			}
			typ := fn.Recv.List[0].Type
			if st, ok := typ.(*ast.StarExpr); ok {
				typ = st.X
			}
			found = append(found, typ.(*ast.Ident).Name)
		}
	}
	require.GreaterOrEqual(t, len(found), 8)
	require.ElementsMatch(t, found, gamify.OutboxTypes())
}
