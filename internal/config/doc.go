// Package config reads carelens' configuration once, in main: defaults, then
// an optional JSON file, then CARELENS_* environment variables, then
// command-line flags; it validates the result with messages that name the
// setting to fix.
package config
