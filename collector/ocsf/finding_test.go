package ocsf

import (
	"testing"

	"github.com/vigilhq/vigil/event"
)

func alert(sev string, tags ...string) *event.Event {
	return &event.Event{ID: "a-1", Time: t0, Kind: event.KindAlert, Site: "leeds", Host: "ws-1", AgentID: "ag-1", Process: person(),
		Alert: &event.Alert{Rule: "bulk_read_write_upload", Severity: sev, Summary: "ana read, wrote and sent", Description: "d",
			Tags: tags, Scope: "host", Evidence: []string{"db-0", "f-1", "n-0", "gone"}}}
}

// A finding with evidence of every kind validates, whatever its severity;
// a correlation alert without a process validates too.
func TestFindingValidates(t *testing.T) {
	s := schema(t)
	for _, sev := range []string{event.SeverityInfo, event.SeverityLow, event.SeverityMedium, event.SeverityHigh, event.SeverityCritical} {
		f := Finding(alert(sev, "T1005", "T1074.001", "exfiltration"), kinds(), []string{"gone"})
		for _, p := range s.Validate(f) {
			t.Errorf("%s finding: %s", sev, p)
		}
	}
	global := alert(event.SeverityHigh)
	global.Process, global.Alert.Scope = nil, "global"
	for _, p := range s.Validate(Finding(global, nil, nil)) {
		t.Errorf("correlation finding: %s", p)
	}
}

// ATT&CK ids go to finding_info.attacks, a sub-technique with its
// technique; other tags stay as types.
func TestAttacks(t *testing.T) {
	f := Finding(alert(event.SeverityHigh, "T1005", "T1074.001", "exfiltration", "T10"), nil, nil)
	a := f.FindingInfo.Attacks
	if len(a) != 2 || a[0].Technique.UID != "T1005" || a[0].SubTechnique != nil ||
		a[1].Technique.UID != "T1074" || a[1].SubTechnique.UID != "T1074.001" ||
		a[1].SubTechnique.SrcURL != "https://attack.mitre.org/techniques/T1074/001/" {
		t.Errorf("attacks %+v", a)
	}
	if ty := f.FindingInfo.Types; len(ty) != 2 || ty[0] != "exfiltration" || ty[1] != "T10" {
		t.Errorf("types %v", ty)
	}
}

// Severities are OCSF's ids and captions; evidence ids are related
// events, typed once their event is found; times span the evidence.
func TestFindingFields(t *testing.T) {
	f := Finding(alert(event.SeverityCritical), kinds(), []string{"gone"})
	if f.SeverityID != 5 || f.Severity != "Critical" || f.TypeUID != 200401 || f.Actor.User.Name != "ana" {
		t.Errorf("severity %d %q type %d actor %+v", f.SeverityID, f.Severity, f.TypeUID, f.Actor.User)
	}
	re := f.FindingInfo.RelatedEvents
	if len(re) != 4 || re[0].UID != "db-0" || re[0].TypeUID != 600504 || re[2].TypeUID != 400106 || re[3].TypeUID != 0 {
		t.Errorf("related events %+v", re)
	}
	if f.FindingInfo.FirstSeenTime != t0.UnixMilli() || f.FindingInfo.LastSeenTime != t0.UnixMilli() {
		t.Errorf("seen %d..%d", f.FindingInfo.FirstSeenTime, f.FindingInfo.LastSeenTime)
	}
	if f.Unmapped["missing_evidence"].([]string)[0] != "gone" || len(f.Evidences) != len(kinds()) {
		t.Errorf("missing %v, %d evidences", f.Unmapped["missing_evidence"], len(f.Evidences))
	}
	if got := Finding(alert("weird"), nil, nil); got.SeverityID != 99 || got.Severity != "weird" {
		t.Errorf("unknown severity: %d %q", got.SeverityID, got.Severity)
	}
}
