package ocsf

import (
	"regexp"
	"strings"
)

// attackVersion is the MITRE ATT&CK version the shipped rules' tags follow.
const attackVersion = "v16"

// Attack is one MITRE ATT&CK technique a finding is an instance of.
type Attack struct {
	Technique    *Technique `json:"technique,omitempty"`
	SubTechnique *Technique `json:"sub_technique,omitempty"`
	Version      string     `json:"version,omitempty"`
}

// Technique names an ATT&CK technique or sub-technique by id.
type Technique struct {
	UID    string `json:"uid"`
	SrcURL string `json:"src_url,omitempty"`
}

var techniqueID = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)

// attacks turns a rule's tags into ATT&CK techniques; tags that are not
// technique ids ("T1048", "T1074.001") stay for finding_info.types.
func attacks(tags []string) (out []Attack, other []string) {
	for _, tag := range tags {
		if !techniqueID.MatchString(tag) {
			other = append(other, tag)
			continue
		}
		parent, _, sub := strings.Cut(tag, ".")
		a := Attack{Technique: &Technique{UID: parent, SrcURL: "https://attack.mitre.org/techniques/" + parent + "/"}, Version: attackVersion}
		if sub {
			a.SubTechnique = &Technique{UID: tag, SrcURL: "https://attack.mitre.org/techniques/" + strings.Replace(tag, ".", "/", 1) + "/"}
		}
		out = append(out, a)
	}
	return out, other
}
