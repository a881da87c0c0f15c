package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// summary is what the demo measured.
type summary struct {
	quick bool
	// kNN top-1 (%) on CIFAR-10 test images at random init and after
	// pretraining, from the trainer's metrics.
	knnRandom, knnPretrained float64
	curves                   string   // the trainer's curves.png
	labels                   int      // labels given over MQTT
	boardLabels              int      // triggers labelled with the board's buttons
	leds                     []string // what the board's LEDs showed after training
	pretrained, random       probeScore
	retrievals               []retrievalAnswer
	messages                 map[string]int // MQTT messages seen, by type
	frames                   int            // frames the daemon embedded
	provider                 string
	seconds                  float64
	reportPath               string
}

// messageTypes are the MQTT message types every demo run must see.
func messageTypes() []string {
	return []string{"status", "telemetry", "events/prediction", "events/retrieval", "events/trigger",
		"cmd/label/result", "cmd/train/result", "cmd/query/result", "cmd/reload/result"}
}

// check returns the ways the run fell short: the probe on the pretrained
// encoder must beat the random-init baseline, and every message type must
// have been seen.
func (s *summary) check() []string {
	var bad []string
	if s.pretrained.accuracy <= s.random.accuracy {
		bad = append(bad, fmt.Sprintf("probe accuracy %.1f%% on the pretrained encoder does not beat %.1f%% at random init",
			100*s.pretrained.accuracy, 100*s.random.accuracy))
	}
	for _, t := range messageTypes() {
		if s.messages[t] == 0 {
			bad = append(bad, "no MQTT "+t+" message seen")
		}
	}
	return bad
}

// print writes the summary.
func (s *summary) print(w io.Writer) {
	fmt.Fprintf(w, "\n== summary (%.0f s)\n", s.seconds)
	fmt.Fprintf(w, "encoder kNN top-1 on CIFAR-10 test: %.1f%% after MoCo pretraining, %.1f%% at random init\n", s.knnPretrained, s.knnRandom)
	fmt.Fprintf(w, "linear probe from %d labels given over MQTT, on %d held-out test images: %.1f%% (pretrained) vs %.1f%% (random init)\n",
		s.labels, sumRow(s.pretrained.confusion), 100*s.pretrained.accuracy, 100*s.random.accuracy)
	fmt.Fprintf(w, "frames embedded by the daemon: %d (provider %s)\n", s.frames, s.provider)
	fmt.Fprintf(w, "simulated board: %d triggers labelled with its buttons; after training: %s\n", s.boardLabels, strings.Join(s.leds, "; "))
	for _, r := range s.retrievals {
		var parts []string
		for _, n := range r.results {
			parts = append(parts, fmt.Sprintf("#%d %s %.2f", n.ID, or(n.class, "?"), n.Score))
		}
		fmt.Fprintf(w, "query %-24s -> %s\n", r.query.name, strings.Join(parts, ", "))
	}
	if len(s.retrievals) > 0 {
		fmt.Fprintln(w, "(top 5 from the camera's queue over MQTT: entry id, its image's true class, cosine)")
	}
	var kinds []string
	for k := range s.messages {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var seen []string
	for _, k := range kinds {
		seen = append(seen, fmt.Sprintf("%s %d", k, s.messages[k]))
	}
	fmt.Fprintf(w, "MQTT messages seen: %s\n", strings.Join(seen, ", "))
	if bad := s.check(); len(bad) > 0 {
		fmt.Fprintf(w, "WARNING: %s\n", strings.Join(bad, "; "))
	}
	fmt.Fprintf(w, "report: %s\n", s.reportPath)
}

// sumRow counts the images in a confusion matrix.
func sumRow(m [][]int) int {
	n := 0
	for _, r := range m {
		for _, v := range r {
			n += v
		}
	}
	return n
}

// or returns s, or def when s is empty.
func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
