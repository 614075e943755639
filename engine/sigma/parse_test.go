package sigma

import (
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/detect-dev/detect/schema"
)

func TestParseMetadata(t *testing.T) {
	src := `title: Full metadata
id: 929A690E-BEF0-4204-A928-EF5E620D6FCC
name: full_meta
status: test
description: All the fields.
author: detect
date: 2026-11-27
modified: 2026/11/28
level: critical
tags: [attack.initial_access, attack.t1566.001]
references:
  - https://example.com/a
falsepositives: Unknown
fields: [sender, subject]
related:
  - id: 11111111-2222-3333-4444-555555555555
    type: derived
logsource:
  category: Email
  product: Exim
  service: smtp
generate: true
custom_attribute: kept out of the way
detection:
  sel:
    subject: x
  condition: sel
`
	rules, err := ParseFile("meta.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r := rules[0]
	r.cond = nil
	r.Fingerprint = "" // fingerprint_test.go
	want := &Rule{
		ID:             "929a690e-bef0-4204-a928-ef5e620d6fcc",
		Name:           "full_meta",
		Title:          "Full metadata",
		Description:    "All the fields.",
		Status:         "test",
		Author:         "detect",
		Level:          "critical",
		Date:           "2026-11-27",
		Modified:       "2026/11/28",
		Tags:           []string{"attack.initial_access", "attack.t1566.001"},
		References:     []string{"https://example.com/a"},
		FalsePositives: []string{"Unknown"},
		Fields:         []string{"sender", "subject"},
		Related:        []Related{{ID: "11111111-2222-3333-4444-555555555555", Type: "derived"}},
		Logsource:      Logsource{Category: "Email", Product: "exim", Service: "smtp"},
		File:           "meta.yml",
		Line:           1,
		Generate:       true,
		GenerateSet:    true,
		nameLine:       3,
		nameCol:        7,
	}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("got  %+v\nwant %+v", r, want)
	}
}

// TestParseMultiDocument checks that every document of a file is a rule
// (sigma-go's ParseRule reads only the first), that empty documents are
// skipped and that each rule knows its starting line.
func TestParseMultiDocument(t *testing.T) {
	src := `---
title: first
id: 00000000-0000-4000-8000-000000000001
detection:
  sel:
    subject: one
  condition: sel
---
# a comment-only document between rules
---
title: second
id: 00000000-0000-4000-8000-000000000002
detection:
  sel-2:
    subject: two
  condition: sel-2
---
`
	rules, err := ParseFile("multi.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 2 {
		t.Fatalf("got %d rules, want 2", len(rules))
	}
	if rules[0].Title != "first" || rules[0].Line != 2 || rules[1].Title != "second" || rules[1].Line != 11 {
		t.Errorf("rules = %q@%d, %q@%d", rules[0].Title, rules[0].Line, rules[1].Title, rules[1].Line)
	}
	one, two := schema.Event{Subject: "one"}, schema.Event{Subject: "two"}
	if !rules[0].Match(&one) || rules[0].Match(&two) || !rules[1].Match(&two) || rules[1].Match(&one) {
		t.Error("each rule must match its own event only")
	}
}

func TestParseKeepsGoodRulesBesideBadOnes(t *testing.T) {
	src := testHeader + "detection:\n  sel:\n    subject: a\n  condition: sel\n---\n" +
		strings.Replace(testHeader, "0001", "0002", 1) + "detection:\n  sel:\n    subjcet: a\n  condition: sel\n"
	rules, err := ParseFile("mixed.yml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), `mixed.yml:14:5: unknown field "subjcet"`) {
		t.Fatalf("err = %v", err)
	}
	if len(rules) != 1 || rules[0].Line != 1 {
		t.Fatalf("want the first rule back, got %d rules", len(rules))
	}
}

func TestParseDuplicateIDInFile(t *testing.T) {
	doc := testHeader + "detection:\n  sel:\n    subject: a\n  condition: sel\n"
	_, err := ParseFile("dup.yml", []byte(doc+"---\n"+doc))
	if err == nil || !strings.Contains(err.Error(), "dup.yml:9:1: id 00000000-0000-4000-8000-000000000001 is already used by the rule at line 1") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseEmptyFile(t *testing.T) {
	for _, src := range []string{"", "# nothing\n", "---\n", "---\n---\n"} {
		rules, err := ParseFile("empty.yml", []byte(src))
		if err != nil || len(rules) != 0 {
			t.Errorf("ParseFile(%q) = %d rules, %v", src, len(rules), err)
		}
	}
}

func TestParseYAMLAnchors(t *testing.T) {
	src := testHeader + `detection:
  sel:
    attachment_ext: &exts [exe, scr]
  also:
    attachment_name|endswith: [.exe, .scr]
    attachment_ext: *exts
  condition: sel and also
`
	rules, err := ParseFile("anchors.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	e := ev(schema.Event{AttachmentName: []string{"a.scr"}, AttachmentExt: []string{"scr"}})
	if !rules[0].Match(&e) {
		t.Error("aliased values must be used")
	}
}

// TestMatchConcurrent lets the race detector check that Match shares no
// mutable state between goroutines.
func TestMatchConcurrent(t *testing.T) {
	rules := append(loadRules(t, "common.yml"), loadRules(t, "differential.yml")...)
	events := genEvents(300)
	want := make([]int, len(rules))
	for i, r := range rules {
		for _, e := range events {
			if r.Match(e) {
				want[i]++
			}
		}
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, r := range rules {
				n := 0
				for _, e := range events {
					if r.Match(e) {
						n++
					}
				}
				if n != want[i] {
					t.Errorf("rule %q matched %d events concurrently, %d alone", r.Title, n, want[i])
				}
			}
		}()
	}
	wg.Wait()
}

// TestCommonRulesFire guards the benchmark and the differential test
// against rules that never match (which would make them measure little).
func TestCommonRulesFire(t *testing.T) {
	events := genEvents(2000)
	for _, name := range []string{"common.yml", "differential.yml"} {
		for _, r := range loadRules(t, name) {
			n := 0
			for _, e := range events {
				if r.Match(e) {
					n++
				}
			}
			if n == 0 || n == len(events) {
				t.Errorf("%s: %q matched %d of %d events", name, r.Title, n, len(events))
			}
		}
	}
}
