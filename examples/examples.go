// Package examples embeds the example feature files, so `fenestra up` runs
// on a fresh machine with nothing but the binary.
package examples

import "embed"

// FS holds the examples: cards/features.sql is the README example.
//
//go:embed cards/features.sql
var FS embed.FS
