package postfixgen_test

import (
	"io/fs"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/detect-dev/detect/bench/postfixgen"
	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/rules"
)

// correlation is what the test needs of a shipped counting rule
// (event_count or value_count): its id, threshold and window, read from the pack so that a retuned rule
// does not break the test (or make it pass for the wrong reason).
type correlation struct {
	id   string
	gte  int
	span time.Duration
}

func shippedCorrelation(t *testing.T, file string) correlation {
	t.Helper()
	raw, err := fs.ReadFile(rules.FS(), file)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	for {
		var doc struct {
			ID          string `yaml:"id"`
			Correlation *struct {
				Type      string         `yaml:"type"`
				Timespan  string         `yaml:"timespan"`
				Condition map[string]any `yaml:"condition"`
			} `yaml:"correlation"`
		}
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("%s: no counting correlation found (%v)", file, err)
		}
		c := doc.Correlation
		if c == nil || c.Type != "event_count" && c.Type != "value_count" {
			continue
		}
		gte, ok := c.Condition["gte"].(int)
		if !ok {
			t.Fatalf("%s: condition %v has no integer gte", file, c.Condition)
		}
		span, err := parseSpan(c.Timespan)
		if err != nil {
			t.Fatalf("%s: timespan: %v", file, err)
		}
		return correlation{id: doc.ID, gte: gte, span: span}
	}
}

// parseSpan reads Sigma timespans (30s, 10m, 1h, 2d).
func parseSpan(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		return time.Duration(d) * 24 * time.Hour, err
	}
	return time.ParseDuration(s)
}

// TestPlantedBurstsFire checks the default pack's stateful rules against
// the planted attacks: each fires on a plant at 1.5 times its threshold,
// and stays quiet on the same traffic without the plant and with a plant
// one event short of the threshold.
func TestPlantedBurstsFire(t *testing.T) {
	rs, err := engine.Load(engine.Source{FS: rules.FS(), Display: rules.Display})
	if err != nil {
		t.Fatal(err)
	}
	burst := shippedCorrelation(t, "sigma/sender_burst.yml")
	brute := shippedCorrelation(t, "sigma/sasl_bruteforce.yml")
	if postfixgen.BurstWindow > burst.span || postfixgen.SASLWindow > brute.span {
		t.Fatalf("the plants (%v, %v) no longer fit the rules' windows (%v, %v)",
			postfixgen.BurstWindow, postfixgen.SASLWindow, burst.span, brute.span)
	}
	run := func(p postfixgen.Plant) map[string]int {
		cfg := smallConfig(5)
		cfg.Plant = p
		log, counts := generate(t, cfg)
		if counts.PlantedBurst != p.SenderBurst || counts.PlantedFailures != p.SASLFailures {
			t.Fatalf("planted %d messages and %d failures, asked for %+v", counts.PlantedBurst, counts.PlantedFailures, p)
		}
		return scanAlerts(t, rs, log)
	}

	quiet := run(postfixgen.Plant{})
	loud := run(postfixgen.Plant{SenderBurst: burst.gte * 3 / 2, SASLFailures: brute.gte * 3 / 2})
	short := run(postfixgen.Plant{SenderBurst: burst.gte - 1, SASLFailures: brute.gte - 1})

	t.Run("sasl brute force", func(t *testing.T) {
		if quiet[brute.id] != 0 || short[brute.id] != 0 {
			t.Errorf("fired without a plant (%d) or below the threshold (%d)", quiet[brute.id], short[brute.id])
		}
		if loud[brute.id] != 1 {
			t.Errorf("fired %d times on one planted brute force, want 1", loud[brute.id])
		}
	})
	t.Run("sender burst", func(t *testing.T) {
		if quiet[burst.id] != 0 || short[burst.id] != 0 {
			t.Errorf("fired without a plant (%d) or below the threshold (%d)", quiet[burst.id], short[burst.id])
		}
		if loud[burst.id] != 1 {
			t.Errorf("fired %d times on one planted burst, want 1", loud[burst.id])
		}
	})
}
