package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/detect-dev/detect/engine/window"
	"github.com/detect-dev/detect/pipeline"
)

func TestSummaryReportsWhatCorrelationsCouldNotCount(t *testing.T) {
	rs, err := loadRules(nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	writeSummary(&buf, pipeline.Stats{Window: window.Stats{Late: 3, Overflow: 7}}, rs)
	if !strings.Contains(buf.String(), "correlation windows: 3 events too late to count") || !strings.Contains(buf.String(), "7 events of groups over the per-rule cap") {
		t.Errorf("summary:\n%s", buf.String())
	}
	buf.Reset()
	writeSummary(&buf, pipeline.Stats{}, rs)
	if strings.Contains(buf.String(), "correlation windows") {
		t.Errorf("quiet runs must not mention windows:\n%s", buf.String())
	}
}
