package live

import (
	"context"
	"errors"
	"time"
)

// reloadOutcome is the result of one reload, for POST /-/reload, /healthz
// and the log.
type reloadOutcome struct {
	At      time.Time
	Changed bool     // a new set was installed
	Errors  []string // why the set was rejected; empty on success
	Hash    string   // of the running set afterwards
	Rules   int
}

// OK reports whether the reload succeeded (or found nothing to do).
func (o reloadOutcome) OK() bool { return len(o.Errors) == 0 }

// ErrStopped is returned by Reload once the Runner has stopped.
var ErrStopped = errors.New("live: stopped; no reload")

// Reload loads the rules again now and reports the outcome; it is what
// SIGHUP and POST /-/reload do. The set is swapped in only if it compiles
// (and passes its cases with RuleSource.Cases); otherwise the running set
// stays and the errors are returned, each with its file:line:col. A Runner
// that has not started yet reloads once it runs (or ctx ends); one that
// has stopped returns ErrStopped at once, so a request during shutdown
// does not hold it up.
func (r *Runner) Reload(ctx context.Context) (reloadOutcome, error) {
	reply := make(chan reloadOutcome, 1)
	select {
	case r.reloads <- reply:
	case <-r.reloadStopped:
		return reloadOutcome{}, ErrStopped
	case <-ctx.Done():
		return reloadOutcome{}, ctx.Err()
	}
	select {
	case o := <-reply:
		return o, nil
	case <-ctx.Done():
		return reloadOutcome{}, ctx.Err()
	}
}

// reloadLoop serializes reloads from requests and file changes.
func (r *Runner) reloadLoop(ctx context.Context) {
	defer close(r.reloadStopped)
	changed := make(chan struct{}, 1)
	if r.cfg.WatchRules {
		roots := r.cfg.Rules.watchRoots()
		if len(roots) > 0 {
			tw, err := newTreeWatcher(roots, r.cfg.Debounce, r.log)
			if err != nil {
				r.log.Warn("rules: no file watching; reload with SIGHUP or POST /-/reload", "err", err)
			} else {
				go tw.run(ctx, func() {
					select {
					case changed <- struct{}{}:
					default:
					}
				})
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case reply := <-r.reloads:
			reply <- r.reload("request")
		case <-changed:
			r.reload("files changed")
		}
	}
}

// reload loads the rules and installs them when they differ from the
// running set.
func (r *Runner) reload(why string) reloadOutcome {
	o := reloadOutcome{At: time.Now()}
	r.m.reloadTimestamp.Set(float64(o.At.UnixNano()) / 1e9)
	cur := r.rules.Load()
	hash, err := r.cfg.Rules.Hash()
	if err == nil && hash == cur.Hash {
		r.m.reloadSuccess.Set(1)
		r.m.reloads.WithLabelValues("unchanged").Inc()
		o.Hash, o.Rules = cur.Hash, cur.Rules.Len()
		r.lastErr.Store(&o)
		r.log.Info("rules unchanged", "why", why, "hash", cur.ShortHash())
		return o
	}
	var l *Loaded
	if err == nil {
		l, err = r.cfg.Rules.Load()
	}
	if err != nil {
		o.Errors = ErrorLines(err)
		o.Hash, o.Rules = cur.Hash, cur.Rules.Len()
		r.m.reloadSuccess.Set(0)
		r.m.reloads.WithLabelValues("failure").Inc()
		r.lastErr.Store(&o)
		r.log.Error("reload failed; the running rules stay", "why", why, "errors", len(o.Errors), "running", cur.ShortHash())
		for _, e := range o.Errors {
			r.log.Error("rule error: " + e)
		}
		return o
	}
	r.install(l, why)
	o.Changed, o.Hash, o.Rules = true, l.Hash, l.Rules.Len()
	r.m.reloadSuccess.Set(1)
	r.m.reloads.WithLabelValues("success").Inc()
	r.lastErr.Store(&o)
	return o
}
