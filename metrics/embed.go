package metrics

import "embed"

// Builtin holds carelens' metric definitions (*.sql) and shared macros
// (macros/*.sql), compiled into the binary. Load it with
// Load(ctx, metrics.Builtin, db).
//
//go:embed *.sql macros/*.sql
var Builtin embed.FS
