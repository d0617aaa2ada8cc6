package pgsrc

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// dbError is a database error whose text leaves out whatever could quote a
// row value. Unwrap still reaches the driver's error, for errors.As.
type dbError struct {
	msg string
	err error
}

func (e *dbError) Error() string { return e.msg }
func (e *dbError) Unwrap() error { return e.err }

// safe returns err with a message fit for logs: a PostgreSQL error keeps its
// message only when its SQLSTATE class cannot carry data (see
// safeMessage); other errors (network, context) pass through.
func safe(err error) error {
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	return &dbError{msg: safeMessage(pe), err: err}
}

// safeClasses are the SQLSTATE classes whose messages name objects,
// settings or states but never values: connection (08), invalid
// transaction state (25), authorization (28), invalid catalog (3D),
// rollback (40), syntax and access rules (42), insufficient resources (53),
// program limits (54), object state (55), operator intervention (57) and
// system errors (58). Data exceptions (22), integrity violations (23) and
// raised exceptions (P0) can quote values, so their messages are withheld.
var safeClasses = map[string]bool{
	"08": true, "25": true, "28": true, "3D": true, "40": true, "42": true,
	"53": true, "54": true, "55": true, "57": true, "58": true,
}

// safeMessage renders a PostgreSQL error without row values.
func safeMessage(pe *pgconn.PgError) string {
	if len(pe.Code) == 5 && safeClasses[pe.Code[:2]] {
		return pe.Message + " (SQLSTATE " + pe.Code + ")"
	}
	return "SQLSTATE " + pe.Code + " (message withheld: it may quote row values)"
}
