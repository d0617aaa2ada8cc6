package pgtest

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carelens/carelens/etl/crm/contract"
)

func TestMain(m *testing.M) { Main(m) }

// TestStart starts a cluster of its own, checks how it is configured, and
// checks that the cleanup stops the server and removes the directory.
func TestStart(t *testing.T) {
	var dir string
	var port int
	t.Run("cluster", func(t *testing.T) {
		t0 := time.Now()
		c := Start(t)
		t.Logf("started in %v (binaries in %s)", time.Since(t0).Round(time.Millisecond), c.bin)
		dir, port = c.dir, c.Port()
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for setting, want := range map[string]string{
			"listen_addresses":        "127.0.0.1",
			"unix_socket_directories": c.dir,
			"fsync":                   "off",
			"server_encoding":         "UTF8",
			"port":                    strconv.Itoa(port),
		} {
			var got string
			if err := conn.QueryRow(ctx, "SELECT current_setting($1)", setting).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s = %q, want %q", setting, got, want)
			}
		}
		dsn := c.CreateDB(t, "Mixed Case")
		db, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatalf("connect to created database: %v", err)
		}
		var name string
		if err := db.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil || name != "Mixed Case" {
			t.Errorf("current_database() = %q, %v", name, err)
		}
		db.Close(ctx)
	})
	if dir == "" {
		return // skipped
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster directory %s still there after cleanup (%v)", dir, err)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second); err == nil {
		c.Close()
		t.Errorf("server still listening on port %d after cleanup", port)
	}
}

// TestSweep: a cluster whose owning process is gone is stopped and removed
// by the next start.
func TestSweep(t *testing.T) {
	c, err := start()
	if errors.Is(err, errNoBinaries) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.stop()
	// A pid that cannot be alive: beyond pid_max.
	if err := os.WriteFile(c.dir+"/owner.pid", []byte("2147483647"), 0o644); err != nil {
		t.Fatal(err)
	}
	sweep(c.bin, c.cred)
	if _, err := os.Stat(c.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("orphaned cluster directory %s not removed (%v)", c.dir, err)
	}
	if conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(c.port), time.Second); err == nil {
		conn.Close()
		t.Errorf("orphaned server still listening")
	}
}

// TestSharedNeedsMain: Shared works under Main and hands out one cluster.
func TestShared(t *testing.T) {
	a, b := Shared(t), Shared(t)
	if a != b {
		t.Fatal("Shared returned two clusters")
	}
}

// TestCRMSchemaAndLoad loads contract records into the CRM schema and reads
// them back with plain SQL: types cast by PostgreSQL, "" as NULL, defaults
// for unmapped columns, quoting.
func TestCRMSchemaAndLoad(t *testing.T) {
	c := Shared(t)
	dsn := c.CreateCRM(t, "load")
	ctx := context.Background()
	recs := map[string][]contract.Fields{
		"contacts": {
			{"contact_id": "7", "mrn": "MRN1", "first_name": "Zoë \"Z\", O'Brien\nline 2", "preferred_channel": "sms",
				"sms_opt_out": "true", "language": "es", "created_at": "2025-03-04T09:15:00-05:00", "updated_at": "2025-03-04 10:00:00"},
			{"contact_id": "8", "mrn": `\.`, "updated_at": "2025-03-05T00:00:00Z"},
		},
		"campaigns": {{"campaign_id": "C-1", "name": "Flu", "purpose": "education", "start_date": "2025-10-01"}},
	}
	if err := LoadContract(ctx, dsn, CRMMapping(), recs); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var (
		first, mrn8      *string
		channel          *string
		sms, email       *bool
		created, updated time.Time
		deleted          bool
		profile          string
	)
	err = conn.QueryRow(ctx, `SELECT p.given_name, q.chart_no, p.channel_pref::text, p.sms_blocked, p.email_blocked,
		p.created_at, p.updated_at, p.is_deleted, p.profile::text
		FROM crm.person p, crm.person q WHERE p.person_id = 7 AND q.person_id = 8`).
		Scan(&first, &mrn8, &channel, &sms, &email, &created, &updated, &deleted, &profile)
	if err != nil {
		t.Fatal(err)
	}
	if first == nil || *first != "Zoë \"Z\", O'Brien\nline 2" {
		t.Errorf("given_name = %v", first)
	}
	if mrn8 == nil || *mrn8 != `\.` {
		t.Errorf(`chart_no = %v, want \.`, mrn8)
	}
	if channel == nil || *channel != "sms" || sms == nil || !*sms || email != nil {
		t.Errorf("channel %v, sms %v, email %v; want sms, true, NULL", channel, sms, email)
	}
	if want := time.Date(2025, 3, 4, 14, 15, 0, 0, time.UTC); !created.Equal(want) {
		t.Errorf("created_at = %v, want %v", created, want)
	}
	if want := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC); !updated.Equal(want) {
		t.Errorf("updated_at = %v, want %v (no zone means UTC)", updated, want)
	}
	if deleted || profile != "{}" {
		t.Errorf("unmapped columns: is_deleted %v, profile %s; want their defaults", deleted, profile)
	}

	// Errors: a value PostgreSQL cannot cast, a field the mapping lacks.
	err = LoadContract(ctx, dsn, CRMMapping(), map[string][]contract.Fields{"contacts": {{"contact_id": "x"}}})
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "22P02" {
		t.Errorf("bad bigint: err = %v, want SQLSTATE 22P02", err)
	}
	err = LoadContract(ctx, dsn, CRMMapping(), map[string][]contract.Fields{"contacts": {{"contact_id": "9", "nickname": "x"}}})
	if err == nil || !strings.Contains(err.Error(), "field nickname is not mapped") {
		t.Errorf("unmapped field: err = %v", err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM crm.person").Scan(&n); err != nil || n != 2 {
		t.Errorf("persons after failed loads = %d, %v; want 2 (a failed load leaves nothing)", n, err)
	}
}

// TestSkipWithoutBinaries: with no PostgreSQL to be found, Start skips the
// test, saying what to install.
func TestSkipWithoutBinaries(t *testing.T) {
	saved := debianBins
	defer func() { debianBins = saved }()
	debianBins = t.TempDir() + "/*/bin"
	t.Setenv("PATH", t.TempDir())
	t.Setenv(BinEnv, t.TempDir())
	_, err := findBin()
	if !errors.Is(err, errNoBinaries) || !strings.Contains(err.Error(), "PostgreSQL binaries not found (install Debian's postgresql package; .ci/run does)") {
		t.Errorf("findBin: %v", err)
	}
	skipped := false
	t.Run("start", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Start(t)
		t.Error("Start returned without PostgreSQL")
	})
	if !skipped {
		t.Error("Start did not skip")
	}
}
