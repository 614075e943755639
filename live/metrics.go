package live

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the runner's Prometheus metrics, on a registry of its own (so
// that two runners in one test process do not collide).
type metrics struct {
	reg *prometheus.Registry

	lines         *prometheus.CounterVec
	notUnderstood prometheus.Counter
	ignored       prometheus.Counter
	truncated     prometheus.Counter
	events        prometheus.Counter
	alerts        *prometheus.CounterVec
	sinkErrors    *prometheus.CounterVec
	eventLag      prometheus.Gauge

	rulesLoaded     prometheus.Gauge
	reloadSuccess   prometheus.Gauge
	reloadTimestamp prometheus.Gauge
	reloads         *prometheus.CounterVec
	rulesHash       *prometheus.GaugeVec

	checkpointWrites prometheus.Counter
	checkpointErrors prometheus.Counter
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	f := factory{reg}
	m := &metrics{
		reg:           reg,
		lines:         f.counterVec("detect_lines_total", "Lines read, by input (follow, syslog, stdin).", "input"),
		notUnderstood: f.counter("detect_lines_not_understood_total", "Lines no parser understood (parse errors)."),
		ignored:       f.counter("detect_lines_ignored_total", "Lines recognized as noise, blank, or of no known format."),
		truncated:     f.counter("detect_lines_truncated_total", "Lines cut to the maximum line length."),
		events:        f.counter("detect_events_total", "Normalized events evaluated."),
		alerts:        f.counterVec("detect_alerts_total", "Alerts raised, by rule.", "rule_id", "level"),
		sinkErrors:    f.counterVec("detect_sink_errors_total", "Alerts a sink failed to write.", "sink"),
		eventLag:      f.gauge("detect_event_lag_seconds", "Wall-clock time minus the time of the newest event evaluated."),

		rulesLoaded:     f.gauge("detect_rules_loaded", "Rules in the running set."),
		reloadSuccess:   f.gauge("detect_rules_last_reload_success", "1 if the last reload succeeded (or found nothing changed), 0 if it failed and the previous set kept running."),
		reloadTimestamp: f.gauge("detect_rules_last_reload_timestamp", "Unix time of the last reload attempt, in seconds."),
		reloads:         f.counterVec("detect_rules_reloads_total", "Reload attempts by result (success, unchanged, failure).", "result"),
		rulesHash:       f.gaugeVec("detect_rules_hash_info", "SHA-256 of the files of the running rule set (value always 1).", "hash"),

		checkpointWrites: f.counter("detect_checkpoint_writes_total", "Checkpoints written."),
		checkpointErrors: f.counter("detect_checkpoint_errors_total", "Checkpoints that could not be written."),
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// factory registers metrics as it makes them.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) gaugeVec(name, help string, labels ...string) *prometheus.GaugeVec {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(g)
	return g
}

// gaugeFunc and counterFunc expose a value another package counts.
func (f factory) gaugeFunc(name, help string, fn func() float64) {
	f.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

func (f factory) counterFunc(name, help string, fn func() float64) {
	f.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, fn))
}
