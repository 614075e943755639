package ruledoc

import (
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestDetectionNeeds(t *testing.T) {
	for _, c := range []struct {
		name, det string
		types     []string // nil: any
		fields    []string
	}{
		{"a selection with event_type and fields",
			"sel: {event_type: reject, reason|contains: x, src_ip: 1.2.3.4}\ncondition: sel",
			[]string{"reject"}, []string{"reason", "src_ip"}},
		{"a negated search needs nothing, but excludes the types it surely matches",
			"sel: {attachment_ext: exe}\nhop:\n  - event_type: filter\n  - relay|startswith: '127.'\ncondition: sel and not hop",
			[]string{"delivery", "receive", "reject", "auth", "connect"}, []string{"attachment_ext"}},
		{"alternatives need what they share",
			"a: {event_type: [filter, reject], reason: x, status: y}\nb: {event_type: reject, reason: z}\ncondition: a or b",
			[]string{"reject", "filter"}, []string{"reason"}},
		{"null means absent and is not needed; '' is",
			"sel: {event_type: delivery, subject: null, sender: ''}\ncondition: sel",
			[]string{"delivery"}, []string{"sender"}},
		{"aliases resolve to schema names",
			"sel: {src_user: a@b}\ncondition: sel",
			nil, []string{"sender"}},
		{"1 of and all of patterns, parentheses",
			"sel_a: {event_type: auth, auth_user: x}\nsel_b: {event_type: auth, src_ip: y}\nf: {relay: z}\ncondition: (all of sel_*) and not 1 of f*",
			[]string{"auth"}, []string{"auth_user", "src_ip"}},
		{"keywords match any event",
			"kw: [foo, bar]\ncondition: kw",
			nil, nil},
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(c.det), &n); err != nil {
			t.Fatal(err)
		}
		cl, err := detectionNeeds(n.Content[0])
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		got := needsOf(cl, nil)
		if !reflect.DeepEqual(got.EventTypes, c.types) || !reflect.DeepEqual(got.Fields, c.fields) {
			t.Errorf("%s: got types %v fields %v, want %v %v", c.name, got.EventTypes, got.Fields, c.types, c.fields)
		}
	}
}

func TestConditionErrors(t *testing.T) {
	for _, det := range []string{
		"sel: {a: b}",                     // no condition
		"sel: {a: b}\ncondition: sel and", // ends early
		"sel: {a: b}\ncondition: other",   // unknown search
		"sel: {a: b}\ncondition: (sel",    // missing )
		"sel: {a: b}\ncondition: 1 of x*", // pattern matches nothing
		"sel: {a: b}\ncondition: sel sel", // trailing token
	} {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(det), &n); err != nil {
			t.Fatal(err)
		}
		if _, err := detectionNeeds(n.Content[0]); err == nil {
			t.Errorf("%q: no error", det)
		}
	}
}

func TestFormatsFor(t *testing.T) {
	for _, c := range []struct {
		n    Needs
		want []string
	}{
		{Needs{EventTypes: []string{"connect"}, Fields: []string{"src_ip", "status"}}, []string{"postfix", "exim"}},
		{Needs{Products: []string{"amavis"}, EventTypes: []string{"filter"}, Fields: []string{"attachment_ext"}}, []string{"postfix", "amavis"}},
		{Needs{EventTypes: []string{"delivery"}, Fields: []string{"attachment_size"}}, []string{"zeek"}},
		{Needs{Fields: []string{"no_such_field"}}, nil},
	} {
		if got := formatsFor(c.n); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v: got %v, want %v", c.n, got, c.want)
		}
	}
}
