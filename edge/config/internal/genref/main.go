// Command genref writes the edge configuration reference, config.Reference(),
// to the file named by its argument (docs/config.md from the module root).
package main

import (
	"fmt"
	"os"

	"github.com/mocoedge/mocoedge/edge/config"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: genref docs/config.md")
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[1], []byte(config.Reference()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genref:", err)
		os.Exit(1)
	}
}
