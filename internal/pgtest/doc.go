// Package pgtest runs throwaway PostgreSQL servers for tests and seeds them
// with CRM data.
//
// Start gives a test its own cluster (initdb, then pg_ctl start on a free
// 127.0.0.1 port, trust authentication, fsync off) and stops it and removes
// its directory when the test ends. Shared gives every test of a binary one
// cluster, stopped by Main from TestMain; tests then keep apart with
// CreateDB. Clusters whose test binary was killed before its cleanup are
// stopped and removed by the next Start.
//
// The binaries come from $CARELENS_PGTEST_BIN, initdb on PATH, or the
// newest /usr/lib/postgresql/<version>/bin (Debian's layout). Without them
// the test skips; .ci/run installs Debian's postgresql package. initdb and
// postgres refuse to run as root, so as root they run as the system user
// postgres.
//
// CRMSchema and CRMMapping are a CRM's own tables, named and typed unlike
// carelens' export contract, and the pgsrc mapping onto them;
// LoadContract puts contract records into those tables, so tests can feed
// the same logical data to the PostgreSQL source as to the file and REST
// sources.
package pgtest
