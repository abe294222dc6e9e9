package main

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// nodePublishCommand: node-publish --root DIR --mode block|directory --volume-id ID --target PATH
// [--block] [--fs-type ext4] [--readonly]. Prints the loop device (Block) or the mount (Filesystem).
func nodePublishCommand(args []string, stdout io.Writer) error {
	flags := newFlags("node-publish")
	root := flags.String("root", "", "state folder of the driver")
	mode := flags.String("mode", string(ModeBlock), "block or directory")
	id := flags.String("volume-id", "", "volume to publish")
	target := flags.String("target", "", "path to publish at")
	block := flags.Bool("block", false, "publish the raw device instead of a filesystem")
	fsType := flags.String("fs-type", defaultFs, "filesystem to mount (formatted when the volume has none)")
	readOnly := flags.Bool("readonly", false, "publish read-only")
	if err := flags.Parse(args); err != nil {
		return err
	}
	store, err := nodeStore(*root, *mode, *id, *target)
	if err != nil {
		return err
	}
	access := requestedAccess{accessType: accessMount, fsType: *fsType}
	if *block {
		access = requestedAccess{accessType: accessBlock}
	} else if store.mode == ModeBlock {
		if err := checkFsType(*fsType); err != nil {
			return err
		}
	}
	device, err := store.publish(*id, "", *target, access, *readOnly, false)
	if err != nil {
		return err
	}
	if *block {
		fmt.Fprintln(stdout, device)
	} else {
		fmt.Fprintln(stdout, *target)
	}
	return nil
}

// nodeUnpublishCommand: node-unpublish --root DIR --volume-id ID --target PATH; idempotent.
func nodeUnpublishCommand(args []string, _ io.Writer) error {
	flags := newFlags("node-unpublish")
	root := flags.String("root", "", "state folder of the driver")
	id := flags.String("volume-id", "", "volume to unpublish")
	target := flags.String("target", "", "path it is published at")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if missingRoot(*root) {
		return nil // nothing was ever published from it
	}
	// Unpublishing does not depend on the mode: loop devices are looked up by image path.
	store, err := nodeStore(*root, string(ModeBlock), *id, *target)
	if err != nil {
		return err
	}
	return store.unpublish(*id, *target)
}

// nodeCleanupCommand: node-cleanup --root DIR; leaves no mount and no loop device of DIR behind.
func nodeCleanupCommand(args []string, _ io.Writer) error {
	flags := newFlags("node-cleanup")
	root := flags.String("root", "", "state folder of the driver")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *root == "" {
		return errors.New("--root is required")
	}
	if missingRoot(*root) {
		return nil
	}
	store, err := openStore(*root, ModeBlock)
	if err != nil {
		return err
	}
	return store.cleanupNode()
}

func nodeStore(root, mode, id, target string) (*Store, error) {
	parsed, err := parseMode(mode)
	if err != nil {
		return nil, err
	}
	if root == "" || id == "" || target == "" {
		return nil, errors.New("--root, --volume-id and --target are required")
	}
	return openStore(root, parsed)
}

func missingRoot(root string) bool {
	_, err := os.Stat(root)
	return root != "" && errors.Is(err, os.ErrNotExist)
}
