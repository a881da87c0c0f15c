package config

import "time"

// Duration is a time.Duration written in the file as a Go duration string
// ("10ms", "1m30s").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }
