package store

import (
	"database/sql"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/internal/testdb"
	"github.com/vigilhq/vigil/internal/testenv"
)

// pgServer is the PostgreSQL server of the running TestPostgres: while it
// is set, storeTarget gives TestPostgres's subtests a fresh database on it.
var (
	pgServer *testdb.Server
	pgDBs    int
)

// storeTarget is where a test's store lives: a file in its temporary
// directory, or under TestPostgres a database of its own.
func storeTarget(t testing.TB) string {
	t.Helper()
	if pgServer == nil || !strings.HasPrefix(t.Name(), "TestPostgres/") {
		return filepath.Join(t.TempDir(), "vigil.db")
	}
	pgDBs++
	name := fmt.Sprintf("vigil_%d", pgDBs)
	db, err := sql.Open("pgx", pgServer.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	return strings.Replace(pgServer.DSN, "/postgres?", "/"+name+"?", 1)
}

// tamper runs SQL on the store as someone with write access to it would:
// with the sqlite3 command-line tool on the file, psql on the database.
func tamper(t *testing.T, target, query string) {
	t.Helper()
	tool, args := "sqlite3", []string{"-bail", target}
	if isPostgres(target) {
		tool, args = "psql", []string{"-q", "-v", "ON_ERROR_STOP=1", target}
	}
	bin, err := exec.LookPath(tool)
	if err != nil {
		testenv.Skipf(t, "%s is not installed (apt install %s)", tool, map[string]string{"sqlite3": "sqlite3", "psql": "postgresql-client"}[tool])
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(query)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", tool, query, err, out)
	}
}

// onPostgres says whether t runs against PostgreSQL.
func onPostgres(t testing.TB) bool {
	return pgServer != nil && strings.HasPrefix(t.Name(), "TestPostgres/")
}

// sharedTests run against both databases: on SQLite as themselves, on
// PostgreSQL under TestPostgres. The tests left out read SQLite's own
// files, pragmas, query plans or migrations from before PostgreSQL stores.
var sharedTests = []struct {
	name string
	fn   func(*testing.T)
}{
	{"TestActivity", TestActivity}, {"TestCaseOf", TestCaseOf}, {"TestBatchIsOneChainEntry", TestBatchIsOneChainEntry},
	{"TestPruneChecksBatchEntries", TestPruneChecksBatchEntries}, {"TestLossAccounting", TestLossAccounting},
	{"TestExplainLossRefusesBadRanges", TestExplainLossRefusesBadRanges}, {"TestTrackSeqGapRecord", TestTrackSeqGapRecord},
	{"TestConfirmGaps", TestConfirmGaps}, {"TestLostByAgent", TestLostByAgent}, {"TestEventMeasures", TestEventMeasures},
	{"TestVerifyNamesEditedMeasure", TestVerifyNamesEditedMeasure}, {"TestOutputCursor", TestOutputCursor},
	{"TestOverview", TestOverview}, {"TestPrune", TestPrune}, {"TestPruneEmptyStore", TestPruneEmptyStore},
	{"TestLateEventAfterPruning", TestLateEventAfterPruning}, {"TestDedupeReachesBackToRetention", TestDedupeReachesBackToRetention},
	{"TestPrunedStoreVerifies", TestPrunedStoreVerifies}, {"TestPruneCarriesEditsOfLiveRows", TestPruneCarriesEditsOfLiveRows},
	{"TestPruneRefusesABrokenSegment", TestPruneRefusesABrokenSegment}, {"TestPruneRefusesAnEditedRow", TestPruneRefusesAnEditedRow},
	{"TestUnsignedBase", TestUnsignedBase}, {"TestPruneAudit", TestPruneAudit}, {"TestQueriesOnEmptyStore", TestQueriesOnEmptyStore},
	{"TestAlertsFilter", TestAlertsFilter}, {"TestAlertByIDEvidence", TestAlertByIDEvidence},
	{"TestAgentsAndLossesLists", TestAgentsAndLossesLists}, {"TestRecentEvents", TestRecentEvents},
	{"TestReopenKeepsData", TestReopenKeepsData}, {"TestPersonTrend", TestPersonTrend}, {"TestTriage", TestTriage},
	{"TestAlertsByStatus", TestAlertsByStatus}, {"TestUpdateEventKeepsItsPlace", TestUpdateEventKeepsItsPlace},
	{"TestUntouchedStoreVerifies", TestUntouchedStoreVerifies}, {"TestVerifyNamesTampering", TestVerifyNamesTampering},
	{"TestVerifyNamesTruncatedTail", TestVerifyNamesTruncatedTail}, {"TestVerifyNamesRewrittenChain", TestVerifyNamesRewrittenChain},
	{"TestPutEventStoresAnIDOnce", TestPutEventStoresAnIDOnce}, {"TestPutAlert", TestPutAlert}, {"TestSeenAgent", TestSeenAgent},
	{"TestBatchIsAllOrNothing", TestBatchIsAllOrNothing}, {"TestCancelledBatchIsNotStored", TestCancelledBatchIsNotStored},
	{"TestConcurrentWritersKeepOneChain", TestConcurrentWritersKeepOneChain},
	{"TestTwoWritersShareOneAgentsSeqs", TestTwoWritersShareOneAgentsSeqs},
	{"TestAuditByAction", TestAuditByAction}, {"TestQueueAlertsByEventTime", TestQueueAlertsByEventTime},
}

// TestPostgres runs sharedTests against a PostgreSQL server of its own.
func TestPostgres(t *testing.T) {
	srv := testdb.StartPostgres(t, testdb.Options{})
	pgServer = srv
	defer func() { pgServer = nil }()
	for _, c := range sharedTests {
		t.Run(c.name, c.fn)
	}
}
