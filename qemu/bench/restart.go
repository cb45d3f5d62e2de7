package main

import (
	"fmt"
	"strings"
)

// The restart row (issue 15, goal 1): rootctl restart of a hung 9P root against a
// cold boot of the machine to the same root, pair by pair (each hung-root run boots
// that machine right after its restart).

const restartGoal = 0.25 // restart at most 0.25x the cold boot

// restartRatios are restart / cold boot of each run that measured both.
func restartRatios(hs []hung) []float64 {
	var xs []float64
	for _, h := range hs {
		if h.Err == "" && h.RestartS > 0 && h.ColdS > 0 {
			xs = append(xs, h.RestartS/h.ColdS)
		}
	}
	return xs
}

// restartPhases are the steps of a restart that PID 1's lines show, each matched
// by a part of the line; the first line matching counts.
var restartPhases = []struct{ name, match string }{
	{"old root stopped", "root system: stopped"},
	{"new root starting", "root system: starting from"},
	{"mounted, its init starts", " mounted; its init "},
}

// phaseAt is when a run's restart reached each of restartPhases (seconds after the
// Enter, from its PhaseAt), -1 where no line showed it.
func phaseAt(h hung) []float64 {
	at := make([]float64, len(restartPhases))
	for i, ph := range restartPhases {
		at[i] = -1
		for j, l := range h.Phases {
			if strings.Contains(l, ph.match) && j < len(h.PhaseAt) {
				at[i] = h.PhaseAt[j]
				break
			}
		}
	}
	return at
}

// restartRows are the report's rows for the cold boot, the ratio and the phases.
func restartRows(hs []hung) string {
	var w strings.Builder
	at := make([][]float64, len(restartPhases))
	for _, h := range hs {
		if h.Err != "" {
			continue
		}
		for i, a := range phaseAt(h) {
			if a >= 0 {
				at[i] = append(at[i], a)
			}
		}
	}
	fmt.Fprintf(&w, "| hung root: cold boot of the machine to the same root (second diod), QEMU start to \"demo root: up\", s | %s |\n", stats(coldBoots(hs)).format(2))
	fmt.Fprintf(&w, "| hung root: restart / cold boot of the same root, pair by pair (goal ≤ %.2f) | %s |\n", restartGoal, stats(restartRatios(hs)).format(2))
	var names, vals []string
	for i, ph := range restartPhases {
		names = append(names, ph.name)
		vals = append(vals, stats(at[i]).format(2))
	}
	var up []float64
	for _, h := range hs {
		if h.Err == "" && h.RestartS > 0 {
			up = append(up, h.RestartS)
		}
	}
	names, vals = append(names, "\"demo root: up\""), append(vals, stats(up).format(2))
	fmt.Fprintf(&w, "| hung root: restart phases, s after the Enter (PID 1's lines as they reach the host): %s | %s |\n", strings.Join(names, " / "), strings.Join(vals, " / "))
	return w.String()
}
