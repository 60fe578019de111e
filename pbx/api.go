package pbx

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/pbx/store"
)

// RegistrationInfo is what the API shows about a registered contact.
type RegistrationInfo struct {
	Extension string    `json:"extension"`
	Contact   string    `json:"contact"`
	Source    string    `json:"source"`
	Transport string    `json:"transport"`
	UserAgent string    `json:"user_agent"`
	Expires   time.Time `json:"expires"`
	ExpiresIn int       `json:"expires_in"` // seconds
}

// httpHandler serves the admin API, metrics and the health check. The API
// never returns a password or an HA1.
func (s *Server) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"status": "ok", "version": s.version})
	})
	mux.Handle("GET /metrics", s.requireToken(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))
	mux.Handle("GET /api/registrations", s.requireToken(http.HandlerFunc(s.apiRegistrations)))
	mux.Handle("GET /api/trunks", s.requireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.trunks.list())
	})))
	mux.Handle("GET /api/calls", s.requireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.calls.list())
	})))
	mux.Handle("GET /api/cdrs", s.requireToken(http.HandlerFunc(s.apiCDRs)))
	mux.Handle("GET /api/statuses", s.requireToken(http.HandlerFunc(s.apiStatuses)))
	mux.Handle("PUT /api/statuses/{tenant}/{person}", s.requireToken(http.HandlerFunc(s.apiSetStatus)))
	mux.Handle("GET /api/calendars", s.requireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, s.calendars.list())
	})))
	mux.Handle("GET /api/explain", s.requireToken(http.HandlerFunc(s.apiExplain)))
	mux.Handle("POST /api/reload", s.requireToken(http.HandlerFunc(s.apiReload)))
	mux.Handle("GET /api/voicemails", s.requireToken(http.HandlerFunc(s.apiVoicemails)))
	mux.Handle("GET /api/voicemails/{id}/audio", s.requireToken(http.HandlerFunc(s.apiVoicemailAudio)))
	mux.Handle("GET /api/messages", s.requireToken(http.HandlerFunc(s.apiMessages)))
	s.consoleHandler(mux)
	// Go's profiler, for diagnosing a live server (same access rule as the API).
	mux.Handle("GET /debug/pprof/", s.requireToken(http.HandlerFunc(pprof.Index)))
	mux.Handle("GET /debug/pprof/profile", s.requireToken(http.HandlerFunc(pprof.Profile)))
	mux.Handle("GET /debug/pprof/trace", s.requireToken(http.HandlerFunc(pprof.Trace)))
	return mux
}

// requireToken enforces http.token when one is configured (it must be
// when the API listens beyond loopback; config validation sees to that).
func (s *Server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := s.config().HTTP.Token
		if token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="centralino"`)
				http.Error(w, "missing or wrong API token", http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) apiRegistrations(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	out := make([]RegistrationInfo, 0)
	for _, b := range s.registrar.loc.all(now) {
		out = append(out, RegistrationInfo{
			Extension: b.aor, Contact: b.raw, Source: b.source.String(), Transport: b.transport,
			UserAgent: b.userAgent, Expires: b.expires, ExpiresIn: int(b.expires.Sub(now) / time.Second),
		})
	}
	writeJSON(w, out)
}

// queryLimit reads the optional ?limit=N of a listing (default 100); on a
// bad value it answers 400 and reports false.
func queryLimit(w http.ResponseWriter, r *http.Request) (int, bool) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 100, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		http.Error(w, "limit must be a non-negative integer", http.StatusBadRequest)
		return 0, false
	}
	return n, true
}

func (s *Server) apiCDRs(w http.ResponseWriter, r *http.Request) {
	limit, ok := queryLimit(w, r)
	if !ok {
		return
	}
	cdrs, err := s.store.CDRs(limit)
	if err != nil {
		s.log.Error("list CDRs", "error", err)
		http.Error(w, "cannot read call records", http.StatusInternalServerError)
		return
	}
	if cdrs == nil {
		writeJSON(w, []any{})
		return
	}
	writeJSON(w, cdrs)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// StatusInfo is what the API shows about a person's status.
type StatusInfo struct {
	Tenant    string    `json:"tenant"`
	Person    string    `json:"person"`
	Name      string    `json:"name"`
	State     string    `json:"state"` // the manual status ("available" when never set)
	Until     time.Time `json:"until"`
	Note      string    `json:"note"`
	Since     time.Time `json:"since"`
	By        string    `json:"by"`
	Effective string    `json:"effective"`     // what calls see now
	Why       string    `json:"effective_why"` // manual, calendar or default
}

func (s *Server) apiStatuses(w http.ResponseWriter, r *http.Request) {
	snap := s.snap.Load()
	now := s.now()
	out := make([]StatusInfo, 0)
	for i := range snap.cfg.Tenants {
		t := &snap.cfg.Tenants[i]
		st := s.state(t.ID)
		for _, p := range t.People {
			info := StatusInfo{Tenant: t.ID, Person: p.ID, Name: p.Name, State: config.StatusAvailable}
			if rec, ok := s.statuses.record(t.ID, p.ID); ok {
				info.State, info.Until, info.Note, info.Since, info.By = rec.State, rec.Until, rec.Note, rec.Since, rec.By
			}
			if plan := snap.plans[t.ID]; plan != nil {
				info.Effective, info.Why = plan.EffectiveStatus(p.ID, st, now)
			}
			out = append(out, info)
		}
	}
	writeJSON(w, out)
}

// statusRequest is the body of PUT /api/statuses/{tenant}/{person}.
type statusRequest struct {
	State string `json:"state"`
	Until string `json:"until"` // "15:00", "2026-12-24 15:00", RFC 3339, or a duration like "2h"
	Note  string `json:"note"`
	By    string `json:"by"` // who set it (the CLI says "cli"); default "api"
}

func (s *Server) apiSetStatus(w http.ResponseWriter, r *http.Request) {
	cfg := s.config()
	tenant, person := r.PathValue("tenant"), r.PathValue("person")
	t := cfg.Tenant(tenant)
	if t == nil || !slices.ContainsFunc(t.People, func(p config.Person) bool { return p.ID == person }) {
		http.Error(w, fmt.Sprintf("no person %q in tenant %q", person, tenant), http.StatusNotFound)
		return
	}
	var req statusRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		http.Error(w, "body must be JSON like {\"state\": \"meeting\", \"until\": \"15:00\"}: "+err.Error(), http.StatusBadRequest)
		return
	}
	if !slices.Contains(validStates, req.State) {
		http.Error(w, fmt.Sprintf("state %q is not one of %s", req.State, strings.Join(validStates, ", ")), http.StatusBadRequest)
		return
	}
	now := s.now()
	until, err := parseUntil(req.Until, t.Location, now)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	by := req.By
	if by != "cli" {
		by = "api"
	}
	st := store.Status{Tenant: tenant, Person: person, State: req.State, Until: until, Note: req.Note, Since: now, By: by}
	if err := s.statuses.set(st); err != nil {
		s.log.Error("set status", "tenant", tenant, "person", person, "error", err)
		http.Error(w, "cannot store the status", http.StatusInternalServerError)
		return
	}
	s.log.Info("status set", "tenant", tenant, "person", person, "state", st.State, "until", st.Until, "by", by)
	writeJSON(w, st)
}

func (s *Server) apiReload(w http.ResponseWriter, r *http.Request) {
	if s.live == nil {
		http.Error(w, "this server runs a configuration given in memory: nothing to reload", http.StatusConflict)
		return
	}
	rep := s.Reload()
	type fileError struct {
		File  string `json:"file"`
		Error string `json:"error"`
	}
	out := struct {
		Loaded  []string    `json:"loaded"`
		Removed []string    `json:"removed"`
		Errors  []fileError `json:"errors"`
		Restart []string    `json:"restart"`
	}{Loaded: rep.Loaded, Removed: rep.Removed, Restart: rep.Restart}
	for _, e := range rep.Errors {
		out.Errors = append(out.Errors, fileError{e.File, e.Err.Error()})
	}
	writeJSON(w, out)
}

func (s *Server) apiVoicemails(w http.ResponseWriter, r *http.Request) {
	limit, ok := queryLimit(w, r)
	if !ok {
		return
	}
	list, err := s.store.Voicemails(r.URL.Query().Get("tenant"), limit)
	if err != nil {
		s.log.Error("list voicemails", "error", err)
		http.Error(w, "cannot read voicemails", http.StatusInternalServerError)
		return
	}
	if list == nil {
		list = []store.Voicemail{}
	}
	writeJSON(w, list)
}

// apiVoicemailAudio serves a voicemail's WAV. The path comes from the
// record, never from the request, so nothing outside the data folder can
// be read.
func (s *Server) apiVoicemailAudio(w http.ResponseWriter, r *http.Request) {
	v, err := s.store.Voicemail(r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "no such voicemail", http.StatusNotFound)
		return
	}
	if err != nil {
		s.log.Error("voicemail", "error", err)
		http.Error(w, "cannot read the voicemail", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Disposition", `attachment; filename="`+v.ID+`.wav"`)
	http.ServeFile(w, r, filepath.Join(s.config().Data, v.File))
}
