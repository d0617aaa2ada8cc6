// Package store owns the analytics DuckDB database: opening it, applying the
// versioned schema migrations and loading Arrow record streams into it inside
// one transaction.
package store
