package live

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// httpServer serves /metrics, /healthz, /readyz and POST /-/reload.
func (r *Runner) httpServer() *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(r.m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", r.healthz)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !r.Ready() {
			http.Error(w, "not ready: rules not loaded or a followed file is not open", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Minute)
		defer cancel()
		o, err := r.Reload(ctx)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		code := http.StatusOK
		if !o.OK() {
			code = http.StatusUnprocessableEntity
		}
		writeJSON(w, code, outcomeJSON(o))
	})
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
}

// healthz says the process is up, with the running rule set and the last
// reload.
func (r *Runner) healthz(w http.ResponseWriter, _ *http.Request) {
	l := r.rules.Load()
	body := map[string]any{"status": "ok", "rules": l.Rules.Len(), "rules_hash": l.Hash, "rules_loaded_at": l.At.UTC().Format(time.RFC3339)}
	if o := r.lastErr.Load(); o != nil {
		body["last_reload"] = outcomeJSON(*o)
	}
	writeJSON(w, http.StatusOK, body)
}

func outcomeJSON(o reloadOutcome) map[string]any {
	m := map[string]any{"time": o.At.UTC().Format(time.RFC3339), "success": o.OK(), "changed": o.Changed, "rules": o.Rules, "rules_hash": o.Hash}
	if !o.OK() {
		m["errors"] = o.Errors
	}
	return m
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
