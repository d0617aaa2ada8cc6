package pgsrc_test

import (
	"testing"

	"github.com/carelens/carelens/internal/pgtest"
)

// The tests share one PostgreSQL cluster, each in a database of its own.
func TestMain(m *testing.M) { pgtest.Main(m) }
