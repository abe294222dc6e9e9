// Command kubeferry-csi-driver is the CSI driver the local clusters' storage runs on: volumes are
// image files (block mode) or directories (directory mode) below --root. `serve` answers the CSI
// services on a unix socket; the node-* subcommands do what NodePublish/NodeUnpublish do, without
// gRPC, for the test environment's node shim.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	commands := map[string]func([]string, io.Writer) error{
		"serve":          serveCommand,
		"node-publish":   nodePublishCommand,
		"node-unpublish": nodeUnpublishCommand,
		"node-cleanup":   nodeCleanupCommand,
	}
	if len(args) == 0 || commands[args[0]] == nil {
		fmt.Fprintln(stderr, "usage: kubeferry-csi-driver serve|node-publish|node-unpublish|node-cleanup [flags]")
		return 2
	}
	if err := commands[args[0]](args[1:], stdout); err != nil {
		fmt.Fprintf(stderr, "kubeferry-csi-driver %s: %v\n", args[0], oneLine(err))
		return 1
	}
	return 0
}

// newFlags parses quietly: a bad flag ends in the one-line message run prints, not a usage dump.
func newFlags(command string) *flag.FlagSet {
	flags := flag.NewFlagSet(command, flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	return flags
}
