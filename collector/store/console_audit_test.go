package store

import (
	"context"
	"testing"
)

// AuditByAction keeps one action's records, newest first, up to the limit.
func TestAuditByAction(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	for _, e := range []AuditEntry{
		{At: t0, Actor: "ada", Action: "agent_revoke", Target: "agent:ag-1"},
		{At: t0, Actor: "ada", Action: "view_evidence", Target: "al-1"},
		{At: t0, Actor: "bo", Action: "agent_revoke", Target: "agent:ag-2"},
	} {
		if err := st.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.AuditByAction(ctx, "agent_revoke", 0)
	if err != nil || len(got) != 2 || got[0].Target != "agent:ag-2" || got[1].Actor != "ada" || !got[0].At.Equal(t0) {
		t.Fatalf("revocations: %+v, %v", got, err)
	}
	if got, _ := st.AuditByAction(ctx, "agent_revoke", 1); len(got) != 1 || got[0].Target != "agent:ag-2" {
		t.Errorf("limit 1: %+v", got)
	}
}
