package cloudtrail

import (
	"os"
	"runtime/debug"
)

// GC settings for the source's process. A subscription batch allocates about
// ten times its 1 MB of messages and keeps little of it, so collecting at
// Go's default 100% heap growth spends a sixth of the CPU in the collector;
// GCPercent lets the heap grow further between collections, and the memory
// limit keeps that growth within the function's memory.
const (
	// GCPercent is the garbage collection target (GOGC) the source runs with.
	GCPercent = 400
	// MemoryLimitShare is the share of the function's memory the Go heap may
	// use (GOMEMLIMIT); the rest is for the runtime, stacks and the binary.
	MemoryLimitShare = 0.70
)

// TuneGC applies GCPercent and a soft memory limit of MemoryLimitShare of
// memoryMB (the Lambda function's memory size) to the running process,
// unless the GOGC or GOMEMLIMIT environment variables choose their own. The
// CloudTrail source Lambda calls it once at start, and tools/bench/standardize
// calls it with 128 so that the benchmark runs as a 128 MB function does.
func TuneGC(memoryMB int) {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(GCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set && memoryMB > 0 {
		debug.SetMemoryLimit(int64(float64(memoryMB<<20) * MemoryLimitShare))
	}
}
