//go:build !linux

package main

import "time"

// processCPU is not measured on this platform; the simulator's CPU reads 0.
func processCPU(int) time.Duration { return 0 }
