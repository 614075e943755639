package schema

import "time"

// Alert is one rule firing. Stateless rules fill Event; correlation and
// window rules fill Group, Count, Start, End and the first few Events.
type Alert struct {
	Time      time.Time         `json:"time"`
	RuleID    string            `json:"rule_id"`
	RuleTitle string            `json:"rule_title"`
	RuleFile  string            `json:"rule_file,omitempty"`
	Engine    string            `json:"engine"` // sigma or rego
	Level     string            `json:"level,omitempty"`
	Tags      []string          `json:"tags,omitempty"`
	Message   string            `json:"message,omitempty"`
	Event     *Event            `json:"event,omitempty"`
	Group     map[string]string `json:"group,omitempty"`
	Count     int               `json:"count,omitempty"`
	Start     time.Time         `json:"start,omitzero"`
	End       time.Time         `json:"end,omitzero"`
	Events    []*Event          `json:"events,omitempty"`
	// Fields holds extra values a rule attaches (Rego object alerts).
	Fields map[string]any `json:"fields,omitempty"`
}
