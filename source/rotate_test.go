package source

import (
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
)

func TestSortRotated(t *testing.T) {
	tests := []struct {
		name string
		want []string // reading order; the test feeds it shuffled
	}{
		{"empty", []string{}},
		{"single", []string{"mail.log"}},
		{
			"numbered with compression, current last",
			[]string{"mail.log.10.gz", "mail.log.9.gz", "mail.log.3.gz", "mail.log.2.gz", "mail.log.1", "mail.log"},
		},
		{
			"numbers compare by value not text",
			[]string{"mail.log.100", "mail.log.20", "mail.log.11", "mail.log.10", "mail.log.9", "mail.log.2"},
		},
		{
			"mixed compressions in one family",
			[]string{"mail.log.4.zst", "mail.log.3.bz2", "mail.log.2.gz", "mail.log.1", "mail.log"},
		},
		{
			"compression extension is case-insensitive",
			[]string{"mail.log.3.GZ", "mail.log.2.Zst", "mail.log"},
		},
		{
			"leading zeros",
			[]string{"mail.log.010", "mail.log.09", "mail.log.1"},
		},
		{
			"huge rotation numbers do not overflow",
			[]string{"x.log.123456789012345678901234567890", "x.log.99999999999999999999", "x.log.1"},
		},
		{
			"dateext ascending, current last",
			[]string{"mail.log-20251231.gz", "mail.log-20260101.gz", "mail.log-20260102", "mail.log"},
		},
		{
			"dates with dashes",
			[]string{"mail.log-2025-12-31.gz", "mail.log-2026-01-01", "mail.log"},
		},
		{
			"dates with hour and epoch suffixes",
			[]string{"mail.log-20260101", "mail.log-2026010106", "mail.log-2026010118.gz", "mail.log-20260102-1767312000", "mail.log"},
		},
		{
			"dot-separated date is a date, not a rotation number",
			[]string{"mail.log.20260101.gz", "mail.log.20260102", "mail.log.20260103", "mail.log"},
		},
		{
			"eight digits that are not a date are a number",
			[]string{"mail.log.99999999", "mail.log.20261399", "mail.log.1"},
		},
		{
			"numbered before dated in one family (left over from before dateext)",
			[]string{"mail.log.2.gz", "mail.log.1", "mail.log-20260101.gz", "mail.log-20260102", "mail.log"},
		},
		{
			"families and unrelated files by name",
			[]string{
				"README", "mail.err.2.gz", "mail.err.1", "mail.err", "mail.info",
				"mail.log.2.gz", "mail.log.1", "mail.log", "mail.log.old", "mail.warn",
			},
		},
		{
			"family without a current file",
			[]string{"maillog.3.gz", "maillog.2.gz", "messages"},
		},
		{
			"compressed copy before plain one of the same rotation",
			[]string{"mail.log.2.gz", "mail.log.1.gz", "mail.log.1", "mail.log.gz", "mail.log"},
		},
		{
			"name that is only a number or only an extension",
			[]string{".gz", "1.gz", "10", "2", "a"},
		},
		{
			"directories: parent first, then subdirectories in tree order",
			[]string{
				"logs/mail.log.1", "logs/mail.log",
				"logs/a/mail.log.2.gz", "logs/a/mail.log",
				"logs/a/x/mail.log",
				"logs/a-b/mail.log",
				"logs/b/mail.log.1", "logs/b/mail.log",
			},
		},
		{
			"absolute paths",
			[]string{"/var/log/mail.log.2.gz", "/var/log/mail.log.1", "/var/log/mail.log", "/var/log/postfix/current"},
		},
		{
			"same family spelled through different directories stays per directory",
			[]string{"a/mail.log.9", "a/mail.log", "b/mail.log.10", "b/mail.log"},
		},
		{
			"unrelated digits elsewhere in the name sort by name",
			[]string{"2026-01-01.log", "2026-01-02.log", "mail1.log", "mail2.log"},
		},
		{
			"date-named files without a current file",
			[]string{"mail-2026-01-01", "mail-2026-01-02.gz", "mail-2026-01-10"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := make([]string, len(tt.want))
			for i, p := range tt.want {
				want[i] = filepath.FromSlash(p)
			}
			r := rand.New(rand.NewPCG(1, uint64(len(want))))
			for range 20 {
				in := slices.Clone(want)
				r.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
				orig := slices.Clone(in)
				got := SortRotated(in)
				if !slices.Equal(got, want) {
					t.Fatalf("SortRotated(%q)\n got %q\nwant %q", orig, got, want)
				}
				if !slices.Equal(in, orig) {
					t.Fatalf("SortRotated modified its argument: %q, was %q", in, orig)
				}
			}
		})
	}
}

func TestSortRotatedNil(t *testing.T) {
	if got := SortRotated(nil); len(got) != 0 {
		t.Fatalf("SortRotated(nil) = %q", got)
	}
}

func TestSortRotatedDuplicatesKept(t *testing.T) {
	// SortRotated is pure ordering; removing duplicates is Expand's job.
	got := SortRotated([]string{"a.1", "a", "a.1"})
	want := []string{"a.1", "a.1", "a"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
