#!/bin/sh
# Usage: bench/throughput.sh [LINES]
#
# End-to-end throughput on one generated Postfix log of LINES lines
# (default 2270000, about a week of a small site; `detect gen`, seed 1),
# generated once; then, one after the other on that file, start-up
# included: detect scan with the embedded rule pack, detect normalize,
# detect report, pflogsumm and `grep -c status=sent` (each skipped with a
# note when not installed). Prints wall time, lines/s and peak RSS of each
# (RSS needs GNU time at /usr/bin/time), the ratios against pflogsumm and
# grep, and whether scan meets the targets of issue 10 (1.5 M lines/s,
# 8x pflogsumm, peak RSS under 256 MB). The machine is shared and noisy:
# compare the ratios of one run, not figures across runs.
#
# Needs go, GNU date; optionally pflogsumm (Debian: apt-get install pflogsumm).
set -eu
cd "$(dirname "$0")/.."
lines=${1:-2270000}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

go build -o "$tmp/detect" ./cmd/detect
"$tmp/detect" gen --lines "$lines" -o "$tmp/mail.log" 2>"$tmp/truth.txt"
log=$tmp/mail.log
nlines=$(wc -l <"$log")
mib=$(du -m "$log" | cut -f1)

gnutime=
if /usr/bin/time -f %M true >/dev/null 2>&1; then
	gnutime=/usr/bin/time
fi

# timed NAME COMMAND...: runs COMMAND once (stdout to $tmp/NAME.out, stderr
# to $tmp/NAME.err) and appends "NAME ms rss_kb" to $tmp/results.
timed() {
	name=$1
	shift
	start=$(date +%s%N)
	if [ -n "$gnutime" ]; then
		$gnutime -f %M -o "$tmp/$name.rss" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	else
		"$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
		echo 0 >"$tmp/$name.rss"
	fi
	end=$(date +%s%N)
	echo "$name $(((end - start) / 1000000)) $(tail -1 "$tmp/$name.rss")" >>"$tmp/results"
}

# Read the file once so that the first tool does not pay for the disk.
cat "$log" >/dev/null

: >"$tmp/results"
timed scan "$tmp/detect" scan "$log"
timed normalize "$tmp/detect" normalize -q "$log"
timed report "$tmp/detect" report -q "$log"
if command -v pflogsumm >/dev/null 2>&1; then
	timed pflogsumm pflogsumm "$log"
else
	echo "pflogsumm is not installed (Debian: apt-get install pflogsumm): skipped" >&2
fi
if command -v grep >/dev/null 2>&1; then
	timed grep grep -c status=sent "$log"
fi

events=$(sed -n 's/^  events: \([0-9]*\).*/\1/p' "$tmp/scan.err")
rules=$(sed -n 's/.* of \([0-9]*\) rules fired.*/\1/p' "$tmp/scan.err")
alerts=$(sed -n 's/^  alerts: \([0-9]*\).*/\1/p' "$tmp/scan.err")
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)

echo "log: $nlines lines, $mib MiB, $events events (detect gen --lines $lines)"
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(go env GOVERSION)"
echo "scan: ${rules:-?} rules of the embedded pack, $alerts alerts"
echo
awk -v lines="$nlines" '
	{ name[NR] = $1; ms[$1] = $2; rss[$1] = $3; order[NR] = $1 }
	END {
		label["scan"] = "detect scan (rule pack)"
		label["normalize"] = "detect normalize"
		label["report"] = "detect report"
		label["pflogsumm"] = "pflogsumm"
		label["grep"] = "grep -c status=sent"
		printf "%-26s %9s %12s %10s %14s\n", "", "wall", "lines/s", "peak RSS", "vs pflogsumm"
		for (i = 1; i <= NR; i++) {
			n = order[i]
			s = ms[n] / 1000
			vs = ""
			if (("pflogsumm" in ms) && n != "pflogsumm" && ms[n] > 0)
				vs = sprintf("%.1fx faster", ms["pflogsumm"] / ms[n])
			mem = rss[n] > 0 ? sprintf("%.0f MiB", rss[n] / 1024) : "-"
			printf "%-26s %8.2fs %11.0fk %10s %14s\n", label[n], s, lines / s / 1000, mem, vs
		}
		printf "\n"
		scan = ms["scan"] / 1000
		rate = lines / scan
		if ("grep" in ms)
			printf "scan takes %.1fx the time of grep -c\n", ms["scan"] / ms["grep"]
		printf "targets (issue 10): scan >= 1.5M lines/s: %s (%.2fM)", (rate >= 1500000 ? "met" : "NOT met"), rate / 1e6
		if ("pflogsumm" in ms)
			printf "; >= 8x pflogsumm: %s (%.1fx)", (ms["pflogsumm"] / ms["scan"] >= 8 ? "met" : "NOT met"), ms["pflogsumm"] / ms["scan"]
		if (rss["scan"] > 0)
			printf "; peak RSS < 256 MiB: %s (%.0f MiB)", (rss["scan"] < 256 * 1024 ? "met" : "NOT met"), rss["scan"] / 1024
		printf "\n"
	}' "$tmp/results"
