package store

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
)

//go:embed migrate_2_outputs.sql
var migrateOutputs string

//go:embed migrate_3_confirmed_gaps.sql
var migrateConfirmedGaps string

//go:embed migrate_4_triage.sql
var migrateTriage string

//go:embed migrate_5_chain.sql
var migrateChain string

//go:embed migrate_6_person_time.sql
var migratePersonTime string

//go:embed migrate_7_chain_batches.sql
var migrateChainBatches string

//go:embed migrate_8_alerts_time.sql
var migrateAlertsTime string

//go:embed migrate_9_event_measures.sql
var migrateEventMeasures string

// migrations bring a store from its schema version (SQLite's user_version)
// to the newest: entry i makes version i+1. A store made before versions
// were kept reads as version 0 and takes them all; each is written so that
// it applies to such a store. Never change a migration that shipped: add
// one.
var migrations = []string{
	schema,               // 1: the schema as it was when versions began
	migrateOutputs,       // 2: where each OCSF output stands
	migrateConfirmedGaps, // 3: gaps are suspected until confirmed
	migrateTriage,        // 4: triage and the audit log
	migrateChain,         // 5: the hash chain and its checkpoints
	migratePersonTime,    // 6: events by person and by site over time, the audit log by time
	migrateChainBatches,  // 7: one chain entry per batch of inserted rows; boots by id
	migrateAlertsTime,    // 8: alerts by time, severity and site
	migrateEventMeasures, // 9: the person page's measures of each event as columns
}

// chainVersion is the schema version that brought the chain: a store
// migrated past it has its rows from before adopted into the chain.
const chainVersion = 5

// batchVersion is the schema version that brought batch entries (the
// chain's rows column).
const batchVersion = 7

// measuresVersion is the schema version that brought the events' measure
// columns: a store migrated past it has them filled from the bodies.
const measuresVersion = 9

// SchemaVersion is the version this collector's store has once opened.
var SchemaVersion = len(migrations)

// migrate applies the migrations a store lacks, all in one transaction.
func migrate(ctx context.Context, db *sql.DB, d *dialect, path string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrating store %s: %w", path, err)
	}
	defer tx.Rollback()
	if d.lock != "" {
		// Two collectors starting on one database migrate it once.
		if _, err := tx.ExecContext(ctx, d.lock); err != nil {
			return fmt.Errorf("migrating store %s: %w", path, err)
		}
	}
	v, err := d.version(ctx, tx)
	if err != nil {
		return fmt.Errorf("reading the schema version of %s: %w", path, err)
	}
	if v > len(d.migrations) {
		return fmt.Errorf("store %s has schema version %d, written by a newer vigil-collector; this one knows up to %d: upgrade it, or restore a backup",
			path, v, len(d.migrations))
	}
	for i := v; i < len(d.migrations); i++ {
		if d.migrations[i] == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, d.migrations[i]); err != nil {
			return fmt.Errorf("migrating store %s to schema version %d: %w", path, i+1, err)
		}
	}
	if v < chainVersion && len(d.migrations) >= chainVersion {
		if err := adopt(ctx, tx); err != nil {
			return fmt.Errorf("migrating store %s: %w", path, err)
		}
	}
	if v < measuresVersion && len(d.migrations) >= measuresVersion {
		if err := fillMeasures(ctx, tx); err != nil {
			return fmt.Errorf("migrating store %s: %w", path, err)
		}
	}
	if v < len(d.migrations) {
		if err := d.setVersion(ctx, tx, len(d.migrations)); err != nil {
			return fmt.Errorf("recording the schema version of %s: %w", path, err)
		}
	}
	return tx.Commit()
}
