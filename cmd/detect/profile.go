package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/urfave/cli/v2"
)

// profileFlags let a user (or the benchmark) see where a scan spends its
// time and memory with go tool pprof, on their own logs and rules.
func profileFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "cpuprofile", Usage: "write a CPU profile of the run to `FILE` (go tool pprof)"},
		&cli.StringFlag{Name: "memprofile", Usage: "write a heap profile (allocations) at the end of the run to `FILE` (go tool pprof)"},
	}
}

// startProfiles starts the profiles profileFlags ask for. The returned stop
// ends the CPU profile and writes the heap profile; call it once the work to
// measure is done.
func startProfiles(c *cli.Context) (stop func() error, err error) {
	var cpu *os.File
	if path := c.String("cpuprofile"); path != "" {
		if cpu, err = os.Create(path); err != nil {
			return nil, failf(exitUsage, "--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, failf(exitUsage, "--cpuprofile: %w", err)
		}
	}
	memPath := c.String("memprofile")
	return func() error {
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				return fmt.Errorf("--cpuprofile: %w", err)
			}
		}
		if memPath == "" {
			return nil
		}
		f, err := os.Create(memPath)
		if err != nil {
			return fmt.Errorf("--memprofile: %w", err)
		}
		// In-use figures are as of the last GC; "allocs" also holds every
		// sampled allocation since start (go tool pprof -sample_index=alloc_space).
		runtime.GC()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			f.Close()
			return fmt.Errorf("--memprofile: %w", err)
		}
		return f.Close()
	}, nil
}
