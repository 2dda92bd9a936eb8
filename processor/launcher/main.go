// Command mlops-launcher runs a user's transform program inside the user's own, unchanged image
// and reports for it to the runtime container of the same pod through files in a shared
// directory (processor/launcher/PROTOCOL.md). It is a static binary (CGO_ENABLED=0): it needs no
// libc, no shell and no Node in the image it runs in.
package main

import (
	"fmt"
	"os"
	"runtime"
)

// protocolVersion is the version of processor/launcher/PROTOCOL.md this launcher speaks.
const protocolVersion = "1"

// exitLauncherError is the launcher's own failure (bad usage, lost runtime): never 2, which the
// Job's pod failure policy reads as bad input.
const exitLauncherError = 1

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

func dispatch(args []string) int {
	if len(args) == 0 {
		return usage()
	}
	switch args[0] {
	case "install":
		if len(args) != 2 {
			return usage()
		}
		if err := install(args[1]); err != nil {
			fmt.Fprintf(os.Stderr, "mlops-launcher install: %v\n", err)
			return exitLauncherError
		}
		return 0
	case "run":
		if len(args) < 3 || args[1] != "--" {
			return usage()
		}
		dir := os.Getenv("MLOPS_HANDOFF_DIR")
		if dir == "" {
			fmt.Fprintln(os.Stderr, "mlops-launcher run: MLOPS_HANDOFF_DIR is not set")
			return exitLauncherError
		}
		return newLauncher(dir, args[2:], os.Stdout).run()
	case "version":
		fmt.Printf("mlops-launcher protocol %s (%s, %s/%s)\n", protocolVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	}
	return usage()
}

func usage() int {
	fmt.Fprintln(os.Stderr, "usage: mlops-launcher install <dest> | run -- <command> [args...] | version")
	return exitLauncherError
}
