package ruletest

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// JUnit XML, the lowest common denominator of CI test reports (GitLab,
// Jenkins, GitHub actions with a reporter). One suite per case file, one
// test case per rule case; rule-level problems form a suite of their own.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitFailure `xml:"failure"`
	Skipped   *junitSkipped `xml:"skipped"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes results and problems as a JUnit XML report.
func WriteJUnit(w io.Writer, results []Result, problems []Problem) error {
	top := junitSuites{Name: "detect test"}
	index := map[string]int{}
	for _, r := range results {
		i, ok := index[r.Case.File]
		if !ok {
			i = len(top.Suites)
			index[r.Case.File] = i
			top.Suites = append(top.Suites, junitSuite{Name: r.Case.File})
		}
		s := &top.Suites[i]
		tc := junitCase{Name: r.Case.Name, ClassName: r.Case.Rule, File: r.Case.File, Line: r.Case.Line}
		switch {
		case r.Skipped:
			tc.Skipped = &junitSkipped{Message: r.Reason}
			s.Skipped++
			top.Skipped++
		case !r.Pass:
			tc.Failure = &junitFailure{Message: r.Reason, Text: FailureDetail(r)}
			s.Failures++
			top.Failures++
		}
		s.Tests++
		top.Tests++
		s.Cases = append(s.Cases, tc)
	}
	if len(problems) > 0 {
		s := junitSuite{Name: "rule problems"}
		for _, p := range problems {
			s.Cases = append(s.Cases, junitCase{Name: p.Msg, ClassName: "rules", File: p.Pos,
				Failure: &junitFailure{Message: p.Msg, Text: p.String()}})
			s.Tests++
			s.Failures++
		}
		top.Tests += s.Tests
		top.Failures += s.Failures
		top.Suites = append(top.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(top); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// FailureDetail describes a failed case for people: want vs got and the
// alerts it produced, one per line; for an OPA unit test, why it failed and
// what it printed.
func FailureDetail(r Result) string {
	var b strings.Builder
	if r.Case.RegoTest {
		b.WriteString("why:  " + r.Reason)
		if out := strings.TrimRight(r.Output, "\n"); out != "" {
			b.WriteString("\nprinted:\n  " + strings.ReplaceAll(out, "\n", "\n  "))
		}
		return b.String()
	}
	fmt.Fprintf(&b, "want: %d alert(s)", r.Case.Expect.Alerts)
	if len(r.Case.Expect.Match) > 0 {
		fmt.Fprintf(&b, " matching %s", compactJSON(r.Case.Expect.Match))
	}
	fmt.Fprintf(&b, "\ngot:  %d alert(s)", r.Got)
	if r.Reason != "" && r.Got == r.Case.Expect.Alerts { // else want/got says it
		fmt.Fprintf(&b, "\nwhy:  %s", r.Reason)
	}
	for i, a := range r.Alerts {
		if i == 5 {
			fmt.Fprintf(&b, "\n      ... and %d more", len(r.Alerts)-5)
			break
		}
		ev := ""
		if a.Event != nil {
			ev = " " + string(a.Event.AppendJSON(nil))
		}
		fmt.Fprintf(&b, "\nalert: %s%s", a.RuleTitle, ev)
	}
	return b.String()
}
