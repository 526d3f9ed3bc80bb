package main

import (
	"errors"
	"go/build"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageDocs fails when a package of the module has no package doc
// comment: "Package name ..." on one of its files, or "Command name ..."
// for a command. It lives here because the module has no root package.
func TestPackageDocs(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatalf("finding the module root: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root %s: %v", root, err)
	}

	checked := 0
	err = filepath.WalkDir(root, func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		// The go command ignores these folders too.
		name := d.Name()
		if dir != root && (name == "testdata" || name == "node_modules" ||
			strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(dir, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return nil
		}
		if err != nil {
			t.Errorf("reading package in %s: %v", dir, err)
			return nil
		}
		rel, _ := filepath.Rel(root, dir)
		if !hasPackageDoc(t, dir, pkg) {
			t.Errorf("package %s (./%s) has no package doc comment",
				pkg.Name, filepath.ToSlash(rel))
		}
		checked++
		return nil
	})
	if err != nil {
		t.Fatalf("walking the module: %v", err)
	}
	// The module has well over ten packages; fewer means the walk broke.
	if checked < 10 {
		t.Errorf("checked %d packages, want at least 10", checked)
	}
}

// hasPackageDoc reports whether one of the non-test files of pkg opens
// with a doc comment that names the package, or the command for main.
func hasPackageDoc(t *testing.T, dir string, pkg *build.Package) bool {
	t.Helper()
	want := "Package " + pkg.Name + " "
	if pkg.Name == "main" {
		want = "Command "
	}
	fset := token.NewFileSet()
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil,
			parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Fatalf("parsing %s: %v", name, err)
		}
		if f.Doc != nil && strings.HasPrefix(f.Doc.Text(), want) {
			return true
		}
	}
	return false
}
