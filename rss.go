package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
)

// peakRSS is this process's peak resident memory in bytes (0 if unknown):
// VmHWM from /proc/self/status on Linux. Not getrusage's ru_maxrss: Linux
// carries the parent's peak into a child across exec (os/exec starts
// children with CLONE_VM), so a small afimport started by a big parent (a
// test binary, a scheduler) would report the parent's memory.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		if rest, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			fields := bytes.Fields(rest) // "12345 kB"
			if len(fields) == 2 && string(fields[1]) == "kB" {
				if kb, err := strconv.ParseInt(string(fields[0]), 10, 64); err == nil {
					return kb << 10
				}
			}
			return 0
		}
	}
	return 0
}
