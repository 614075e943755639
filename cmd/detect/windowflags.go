package main

import (
	"github.com/urfave/cli/v2"

	"github.com/detect-dev/detect/engine/window"
)

// windowFlags tune the event-time windows of correlation (stateful) rules;
// scan and run share them so an archive replays exactly as the live stream.
func windowFlags() []cli.Flag {
	return []cli.Flag{
		&cli.DurationFlag{Name: "lateness", Value: window.DefaultLateness,
			Usage: "how far out of order an event may arrive and still be counted by correlation windows (0 counts only in-order events)"},
		&cli.IntFlag{Name: "max-groups", Value: window.DefaultMaxGroups,
			Usage: "cap on open groups per correlation rule; events of new groups beyond it are dropped and counted in the summary"},
		&cli.DurationFlag{Name: "suppress",
			Usage: "after a correlation or window rule alerts for a group, no new alert for that group until this much event time has passed (0: until the window that alerted has passed)"},
	}
}

// windowOptions reads windowFlags.
func windowOptions(c *cli.Context) window.Options {
	lateness := c.Duration("lateness")
	if lateness == 0 {
		lateness = -1 // window.Options: negative means none, zero the default
	}
	return window.Options{Lateness: lateness, MaxGroups: c.Int("max-groups"), Suppress: c.Duration("suppress")}
}
