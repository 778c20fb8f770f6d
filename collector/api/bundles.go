package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/collector/bundles"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/rules/bundle"
)

// SiteBundle is a site's published rule bundle as GET /api/bundles lists
// it.
type SiteBundle struct {
	// Site is the site whose agents run it, "*" for every site.
	Site    string `json:"site"`
	Version uint64 `json:"version"`
	// Hash is the rule set's hash, as agents report the set they run.
	Hash      string    `json:"hash"`
	Published time.Time `json:"published"`
	Files     []string  `json:"files"`
	// PublishedBy is who published it from the console; empty when it was
	// published with vigil rules publish on the collector host.
	PublishedBy string `json:"published_by,omitempty"`
}

// Bundles is the answer of GET /api/bundles.
type Bundles struct {
	Bundles []SiteBundle `json:"bundles"`
	// Errors names each published bundle file that cannot be read.
	Errors []string `json:"errors"`
}

// AuditPublish is the audit action of a bundle published from the console;
// its target is BundleTarget(site), its detail starts "version N".
const AuditPublish = "rules_publish"

// BundleTarget is the audit target of site's bundle.
func BundleTarget(site string) string { return "bundle:" + site }

// SiteBundles reads the bundles published in dataDir, by site, with who
// published each from the console (the audit log says); bundle files that
// cannot be read are named in Errors, the others listed all the same.
func SiteBundles(ctx context.Context, st *store.Store, dataDir string) (Bundles, error) {
	out := Bundles{Bundles: []SiteBundle{}, Errors: []string{}}
	if dataDir == "" {
		return out, nil
	}
	pub, err := bundles.Published(dataDir)
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			out.Errors = append(out.Errors, e.Error())
		}
	} else if err != nil {
		out.Errors = append(out.Errors, err.Error())
	}
	for _, en := range pub {
		var signed bundle.Signed
		var b bundle.Bundle
		err := json.Unmarshal(en.Data, &signed)
		if err == nil {
			err = json.Unmarshal(signed.Payload, &b)
		}
		if err != nil {
			out.Errors = append(out.Errors, fmt.Sprintf("reading site %s's bundle: %v", en.Site, err))
			continue
		}
		sb := SiteBundle{Site: b.Site, Version: b.Version, Hash: b.Hash, Published: b.Published, Files: []string{}}
		for _, f := range b.Files {
			sb.Files = append(sb.Files, f.Name)
		}
		log, err := st.AuditLog(ctx, BundleTarget(b.Site), 100)
		if err != nil {
			return out, err
		}
		for _, e := range log {
			if e.Action == AuditPublish && strings.HasPrefix(e.Detail, "version "+strconv.FormatUint(b.Version, 10)+" ") {
				sb.PublishedBy = e.Actor
				break
			}
		}
		out.Bundles = append(out.Bundles, sb)
	}
	slices.SortFunc(out.Bundles, func(a, b SiteBundle) int { return strings.Compare(a.Site, b.Site) })
	return out, nil
}

func (s *Server) bundles(w http.ResponseWriter, r *http.Request) {
	b, err := SiteBundles(r.Context(), s.Store, s.DataDir)
	if err != nil {
		fail(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}
