package pgsrc

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// SetBeginHook makes every Pull of s call f right after BEGIN, inside the
// pull's transaction.
func SetBeginHook(s *Source, f func(context.Context, pgx.Tx) error) { s.beginHook = f }
