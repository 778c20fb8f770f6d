package console

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vigilhq/vigil/collector/api"
	"github.com/vigilhq/vigil/collector/auth"
	"github.com/vigilhq/vigil/collector/bundles"
	"github.com/vigilhq/vigil/collector/store"
	"github.com/vigilhq/vigil/rules"
	"github.com/vigilhq/vigil/rules/bundle"
)

type rulesData struct {
	Bundles api.Bundles
	// Site, Name and Text are the form as sent, kept when it is refused.
	Site, Name, Text string
	// Output is what the checks said: diagnostics (file:line:col), failed
	// tests and warnings.
	Output    string
	Published *bundle.Bundle
	Error     string
	// CanPublish is false when the console has no data directory to sign
	// bundles from.
	CanPublish bool
}

// rulesPage shows admins each site's published rule bundle and the form
// that publishes a new one.
func (s *Server) rulesPage(w http.ResponseWriter, r *http.Request) {
	s.renderRules(w, r, http.StatusOK, rulesData{Name: "console.hcl"})
}

func (s *Server) renderRules(w http.ResponseWriter, r *http.Request, code int, d rulesData) {
	b, err := api.SiteBundles(r.Context(), s.Store, s.DataDir)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	d.Bundles, d.CanPublish = b, s.DataDir != ""
	s.render(w, r, code, "rules", "Rules", d)
}

// maxRulesForm bounds a publish form: the bundle's own bound, and room
// for the form around it.
const maxRulesForm = bundle.MaxSize + 64<<10

// publishRules checks the pasted and uploaded rule files as vigil rules
// publish does and, when they pass, signs them with the collector's key as
// the site's next bundle and records who did it in the audit log; when
// they do not, the page shows why, naming file:line, and nothing is
// published.
func (s *Server) publishRules(w http.ResponseWriter, r *http.Request) {
	if s.DataDir == "" {
		s.fail(w, http.StatusNotFound, errors.New("this console cannot publish rules: it has no data directory to sign them from"))
		return
	}
	p, _ := auth.From(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, maxRulesForm)
	if err := r.ParseMultipartForm(maxRulesForm); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		s.renderRules(w, r, http.StatusBadRequest, rulesData{Error: fmt.Sprintf("Reading the rules form: %v (at most %d KiB of rules).", err, bundle.MaxSize>>10)})
		return
	}
	d := rulesData{Site: strings.TrimSpace(r.FormValue("site")), Name: strings.TrimSpace(r.FormValue("name")), Text: r.FormValue("rules")}
	if d.Name == "" {
		d.Name = "console.hcl"
	}
	if d.Site == "" {
		d.Error = "Say which site runs the bundle (or * for every site)."
		s.renderRules(w, r, http.StatusBadRequest, d)
		return
	}
	srcs, err := formSources(r, d)
	if err != nil {
		d.Error = err.Error()
		s.renderRules(w, r, http.StatusBadRequest, d)
		return
	}
	hashed, err := s.siteIdentifiers(r, d.Site)
	if err != nil {
		s.fail(w, http.StatusInternalServerError, err)
		return
	}
	set, diags := rules.Load(srcs...)
	var out bytes.Buffer
	b, err := bundles.CheckAndPublish(s.DataDir, d.Site, set, diags, srcs, hashed, s.now(), &out)
	d.Output = out.String()
	if errors.Is(err, bundles.ErrRejected) {
		d.Error = "Not published: the rules did not pass the checks below."
		s.renderRules(w, r, http.StatusBadRequest, d)
		return
	}
	if err != nil {
		d.Error = "Not published: " + err.Error() + "."
		s.renderRules(w, r, http.StatusBadRequest, d)
		return
	}
	names := make([]string, len(b.Files))
	for i, f := range b.Files {
		names[i] = f.Name
	}
	if err := s.Store.Audit(r.Context(), store.AuditEntry{At: s.now(), Actor: p.Who(), Action: api.AuditPublish,
		Target: api.BundleTarget(b.Site), Detail: fmt.Sprintf("version %d hash %s files %s", b.Version, b.Hash, clip(strings.Join(names, ", ")))}); err != nil {
		s.fail(w, http.StatusInternalServerError, fmt.Errorf("recording bundle %d in the audit log (it is published): %w", b.Version, err))
		return
	}
	d.Published, d.Text = b, ""
	s.renderRules(w, r, http.StatusOK, d)
}

// formSources are the uploaded rule files and the pasted text, as rule
// sources named by their file names.
func formSources(r *http.Request, d rulesData) ([]rules.Source, error) {
	var srcs []rules.Source
	seen := map[string]bool{}
	add := func(name string, data []byte) error {
		if seen[name] {
			return fmt.Errorf("two rule files are named %s: rename one", name)
		}
		seen[name] = true
		srcs = append(srcs, rules.Source{Name: name, Data: data})
		return nil
	}
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["files"] {
			f, err := fh.Open()
			if err != nil {
				return nil, fmt.Errorf("reading the uploaded file %s: %w", fh.Filename, err)
			}
			data, err := io.ReadAll(f)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("reading the uploaded file %s: %w", fh.Filename, err)
			}
			if err := add(filepath.Base(fh.Filename), data); err != nil {
				return nil, err
			}
		}
	}
	if strings.TrimSpace(d.Text) != "" {
		if err := add(d.Name, []byte(d.Text)); err != nil {
			return nil, err
		}
	}
	if len(srcs) == 0 {
		return nil, errors.New("no rules: paste them or upload .hcl files")
	}
	return srcs, nil
}

// siteIdentifiers are the identifier names every agent of site (every
// agent for "*") reports hashing in its heartbeat: a rule reading any
// other would count nothing on some host. With no agent heard from, none.
func (s *Server) siteIdentifiers(r *http.Request, site string) ([]string, error) {
	agents, err := s.Store.Agents(r.Context())
	if err != nil {
		return nil, err
	}
	var out []string
	first := true
	for _, a := range agents {
		if (site != bundle.AllSites && a.Site != site) || a.Heartbeat == nil {
			continue
		}
		if first {
			out, first = slices.Clone(a.Heartbeat.Identifiers), false
			continue
		}
		out = slices.DeleteFunc(out, func(n string) bool { return !slices.Contains(a.Heartbeat.Identifiers, n) })
	}
	return out, nil
}
