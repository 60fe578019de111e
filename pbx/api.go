package pbx

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
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
	// Go's profiler, for diagnosing a live server (same access rule as the API).
	mux.Handle("GET /debug/pprof/", s.requireToken(http.HandlerFunc(pprof.Index)))
	mux.Handle("GET /debug/pprof/profile", s.requireToken(http.HandlerFunc(pprof.Profile)))
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

func (s *Server) apiCDRs(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			http.Error(w, "limit must be a non-negative integer", http.StatusBadRequest)
			return
		}
		limit = n
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
