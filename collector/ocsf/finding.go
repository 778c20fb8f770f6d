package ocsf

import (
	"github.com/vigilhq/vigil/event"
)

// DetectionFinding is an alert as OCSF Detection Finding (2004).
type DetectionFinding struct {
	ClassUID     int            `json:"class_uid"`
	ClassName    string         `json:"class_name"`
	CategoryUID  int            `json:"category_uid"`
	CategoryName string         `json:"category_name"`
	ActivityID   int            `json:"activity_id"`
	ActivityName string         `json:"activity_name"`
	TypeUID      int            `json:"type_uid"`
	TypeName     string         `json:"type_name"`
	Time         int64          `json:"time"`
	SeverityID   int            `json:"severity_id"`
	Severity     string         `json:"severity"`
	StatusID     int            `json:"status_id"`
	Status       string         `json:"status"`
	Message      string         `json:"message,omitempty"`
	Metadata     Metadata       `json:"metadata"`
	FindingInfo  FindingInfo    `json:"finding_info"`
	Device       *Device        `json:"device,omitempty"`
	Actor        *Actor         `json:"actor,omitempty"`
	Evidences    []Evidences    `json:"evidences,omitempty"`
	Unmapped     map[string]any `json:"unmapped,omitempty"`
}

// FindingInfo says what was found and by which rule.
type FindingInfo struct {
	UID           string         `json:"uid"`
	Title         string         `json:"title"`
	Desc          string         `json:"desc,omitempty"`
	Types         []string       `json:"types,omitempty"`
	Analytic      *Analytic      `json:"analytic,omitempty"`
	Attacks       []Attack       `json:"attacks,omitempty"`
	RelatedEvents []RelatedEvent `json:"related_events,omitempty"`
	FirstSeenTime int64          `json:"first_seen_time,omitempty"`
	LastSeenTime  int64          `json:"last_seen_time,omitempty"`
}

// Analytic is the rule that raised the finding.
type Analytic struct {
	Name   string `json:"name"`
	UID    string `json:"uid"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

// RelatedEvent names one evidence event by its vigil id.
type RelatedEvent struct {
	UID     string `json:"uid"`
	TypeUID int64  `json:"type_uid,omitempty"`
}

// Evidences is one evidence event's artifacts, and the whole event as its
// OCSF class in data.
type Evidences struct {
	Actor          *Actor          `json:"actor,omitempty"`
	Process        *Process        `json:"process,omitempty"`
	File           *File           `json:"file,omitempty"`
	SrcEndpoint    *Endpoint       `json:"src_endpoint,omitempty"`
	DstEndpoint    *Endpoint       `json:"dst_endpoint,omitempty"`
	ConnectionInfo *ConnectionInfo `json:"connection_info,omitempty"`
	Database       *Database       `json:"database,omitempty"`
	Device         *Device         `json:"device,omitempty"`
	Data           *Activity       `json:"data,omitempty"`
}

// severities are OCSF's severity ids and captions for vigil's severities.
var severities = map[string]struct {
	id   int
	name string
}{event.SeverityInfo: {1, "Informational"}, event.SeverityLow: {2, "Low"}, event.SeverityMedium: {3, "Medium"},
	event.SeverityHigh: {4, "High"}, event.SeverityCritical: {5, "Critical"}}

// Finding renders an alert, with the evidence events found, as a
// Detection Finding. missing lists evidence ids not available.
func Finding(al *event.Event, evidence []*event.Event, missing []string) *DetectionFinding {
	a := al.Alert
	atk, types := attacks(a.Tags)
	f := &DetectionFinding{
		ClassUID: classFinding, ClassName: classNames[classFinding], CategoryUID: 2, CategoryName: categoryNames[2],
		ActivityID: 1, ActivityName: "Create", TypeUID: classFinding*100 + 1, TypeName: "Detection Finding: Create",
		Time: al.Time.UnixMilli(), SeverityID: 99, Severity: a.Severity,
		StatusID: 1, Status: "New", Message: a.Summary,
		Metadata: metadata(al, "vigil", []string{"host"}),
		FindingInfo: FindingInfo{UID: al.ID, Title: a.Summary, Desc: a.Description, Types: types, Attacks: atk,
			Analytic: &Analytic{Name: a.Rule, UID: a.Rule, TypeID: 1, Type: "Rule"}},
		Device: device(al), Actor: actor(al.Process),
		Unmapped: map[string]any{"site": al.Site, "scope": a.Scope, "group": a.Group, "value": a.Value,
			"evidence_ids": a.Evidence, "missing_evidence": missing},
	}
	if sev, ok := severities[a.Severity]; ok {
		f.SeverityID, f.Severity = sev.id, sev.name
	}
	for _, id := range a.Evidence {
		f.FindingInfo.RelatedEvents = append(f.FindingInfo.RelatedEvents, RelatedEvent{UID: id})
	}
	for _, ev := range evidence {
		e := Evidences{Data: Evidence(ev)}
		if ev.Process != nil {
			e.Process, e.Actor = process(ev.Process), actor(ev.Process)
		}
		if d := e.Data; d != nil {
			e.File, e.SrcEndpoint, e.DstEndpoint, e.ConnectionInfo, e.Database = d.File, d.SrcEndpoint, d.DstEndpoint, d.ConnectionInfo, d.Database
			for i := range f.FindingInfo.RelatedEvents {
				if f.FindingInfo.RelatedEvents[i].UID == ev.ID {
					f.FindingInfo.RelatedEvents[i].TypeUID = int64(d.TypeUID)
				}
			}
			t := ev.Time.UnixMilli()
			if f.FindingInfo.FirstSeenTime == 0 || t < f.FindingInfo.FirstSeenTime {
				f.FindingInfo.FirstSeenTime = t
			}
			f.FindingInfo.LastSeenTime = max(f.FindingInfo.LastSeenTime, t)
		}
		f.Evidences = append(f.Evidences, e)
	}
	return f
}
