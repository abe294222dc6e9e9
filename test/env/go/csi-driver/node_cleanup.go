package main

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// cleanupNode unmounts every publication and staging mount of every volume below the root, any
// other mount below it or of its loop devices, and detaches those loop devices.
func (s *Store) cleanupNode() error {
	var problems []error
	ids, err := s.committedIDs(nodeDir)
	if err != nil {
		return err
	}
	for _, id := range ids {
		problems = append(problems, s.withNodeLock(id, func(record *NodeRecord) error {
			var errs []error
			for _, target := range record.Targets {
				errs = append(errs, unmountAll(target.Path), removeIfPresent(target.Path))
			}
			for _, staging := range record.StagingPaths {
				errs = append(errs, unmountAll(staging))
			}
			*record = NodeRecord{}
			return errors.Join(errs...)
		}))
	}
	devices, err := s.loopsBelowRoot()
	if err != nil {
		return errors.Join(append(problems, err)...)
	}
	problems = append(problems, s.unmountLeftovers(devices))
	for _, device := range devices {
		problems = append(problems, runTool("losetup", "--detach", device))
	}
	return errors.Join(problems...)
}

func (s *Store) loopsBelowRoot() ([]string, error) {
	all, err := loopDevices()
	if err != nil {
		return nil, err
	}
	var devices []string
	for _, device := range all {
		if below(device.BackFile, s.root) {
			devices = append(devices, device.Name)
		}
	}
	return devices, nil
}

// unmountLeftovers unmounts, deepest first, mounts below the root, mounts of the given loop
// devices, and bind mounts of their device nodes (mountinfo shows those as devtmpfs at /loopN).
func (s *Store) unmountLeftovers(devices []string) error {
	entries, err := mountTable()
	if err != nil {
		return err
	}
	isDevice := map[string]bool{}
	for _, device := range devices {
		isDevice[device] = true
	}
	var leftovers []string
	for _, entry := range entries {
		if below(entry.mountPoint, s.root) || isDevice[entry.source] ||
			(entry.fsType == "devtmpfs" && isDevice[filepath.Join("/dev", entry.root)]) {
			leftovers = append(leftovers, entry.mountPoint)
		}
	}
	sort.Slice(leftovers, func(i, j int) bool { return len(leftovers[i]) > len(leftovers[j]) })
	var problems []error
	for _, path := range leftovers {
		problems = append(problems, unmountAll(path))
	}
	return errors.Join(problems...)
}

func below(path, root string) bool {
	return strings.HasPrefix(filepath.Clean(path)+"/", filepath.Clean(root)+"/")
}

func removeIfPresent(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
