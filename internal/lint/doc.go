// Package lint holds tests that keep the repository shaped as
// ARCHITECTURE.md draws it; it has no code of its own.
//
// TestLayout reads the listing under "Layout and dependency direction" in
// ARCHITECTURE.md, which draws the module's packages top-down from the
// entry points (cmd/...) to the core (featurelang/...), and holds the
// go tool's view of the import graph to it:
//
//   - a package imports only packages of the module drawn below it, never
//     one drawn above it (only non-test imports count);
//   - every package of the module is drawn, so a new package must be
//     placed;
//   - every package drawn exists.
//
// In the listing, an unindented line ending in "/" is a package; a line
// indented by two spaces is a sub-package of the unindented line above it,
// except a line naming a .go file, which draws that line's own package
// there (as "featurelang.go" draws featurelang below its heading). The
// listing ends at its first blank line; what follows (testdata/, docs/)
// is not code.
//
// The idea comes from cockroachdb/pebble's internal/lint
// (TestForbiddenImports).
package lint
