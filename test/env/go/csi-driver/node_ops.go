package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
)

// The operations kubelet would run through the driver on a node. The gRPC Node service and the
// node-* commands both call them, always holding the volume's node lock.

func (s *Store) imagePath(id string) string { return filepath.Join(s.root, volumesDir, id+".img") }

func (s *Store) checkVolumeData(id string) error {
	if !validID(id) || !fileExists(s.volumeData(id)) {
		return nodeFailure(codes.NotFound, "volume %q does not exist below %s", id, s.root)
	}
	return nil
}

// stage makes a volume ready on the node: a loop device for a block image, and for a Filesystem
// volume that device (or the volume's directory) mounted at stagingPath.
func (s *Store) stage(id, stagingPath string, access requestedAccess) error {
	if err := s.checkVolumeData(id); err != nil {
		return err
	}
	return s.withNodeLock(id, func(record *NodeRecord) error {
		if access.accessType == accessBlock {
			if _, err := ensureLoop(s.imagePath(id), false); err != nil {
				return err
			}
		} else if err := s.mountVolume(id, stagingPath, access, false); err != nil {
			return err
		}
		if !slices.Contains(record.StagingPaths, stagingPath) {
			record.StagingPaths = append(record.StagingPaths, stagingPath)
		}
		return nil
	})
}

func (s *Store) unstage(id, stagingPath string) error {
	return s.withNodeLock(id, func(record *NodeRecord) error {
		if err := unmountAll(stagingPath); err != nil {
			return err
		}
		record.StagingPaths = slices.DeleteFunc(record.StagingPaths, func(path string) bool { return path == stagingPath })
		return s.detachUnused(id, record)
	})
}

// publish puts a volume at target: for Block, the loop device bind-mounted onto a file at target
// (its path is returned); for Filesystem, a bind of the staging mount, or with no staging path a
// mount of the volume itself.
func (s *Store) publish(id, stagingPath, target string, access requestedAccess, readOnly, singleWriter bool) (string, error) {
	if err := s.checkVolumeData(id); err != nil {
		return "", err
	}
	var device string
	err := s.withNodeLock(id, func(record *NodeRecord) error {
		for _, other := range record.Targets {
			if other.Path != target && (singleWriter || other.SingleWriter) {
				return nodeFailure(codes.FailedPrecondition,
					"volume %s is already published at %s for a single writer; unpublish it there first", id, other.Path)
			}
		}
		var err error
		device, err = s.mountTarget(id, stagingPath, target, access, readOnly)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(record.Targets, func(p Publication) bool { return p.Path == target }) {
			record.Targets = append(record.Targets, Publication{Path: target, SingleWriter: singleWriter})
		}
		return nil
	})
	return device, err
}

func (s *Store) mountTarget(id, stagingPath, target string, access requestedAccess, readOnly bool) (string, error) {
	if access.accessType == accessBlock {
		return s.publishDevice(id, target, readOnly)
	}
	if stagingPath == "" {
		return "", s.mountVolume(id, target, access, readOnly)
	}
	if mounted, err := isMountPoint(stagingPath); err != nil || !mounted {
		return "", errors.Join(err, nodeFailure(codes.FailedPrecondition, "volume %s is not staged at %s; stage it first", id, stagingPath))
	}
	if mounted, err := isMountPoint(target); err != nil || mounted {
		return "", err
	}
	if err := os.MkdirAll(target, 0o750); err != nil {
		return "", err
	}
	return "", bindMount(stagingPath, target, readOnly)
}

// publishDevice bind-mounts the image's loop device onto a file at target, as kubelet publishes
// a Block volume, and returns the device.
func (s *Store) publishDevice(id, target string, readOnly bool) (string, error) {
	if s.mode == ModeDirectory {
		return "", nodeFailure(codes.InvalidArgument, "volume %s is a directory: it has no block device", id)
	}
	device, err := ensureLoop(s.imagePath(id), readOnly)
	if err != nil {
		return "", err
	}
	if mounted, err := isMountPoint(target); err != nil || mounted {
		return device, err
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
		return "", err
	}
	file, err := os.OpenFile(target, os.O_CREATE|os.O_RDONLY, 0o600)
	if err != nil {
		return "", err
	}
	file.Close()
	return device, bindMount(device, target, readOnly)
}

// mountVolume mounts a Filesystem volume at path: its directory (directory mode), or its image's
// loop device, formatted first when blkid finds no filesystem on it (as kubelet's SafeFormatAndMount).
func (s *Store) mountVolume(id, path string, access requestedAccess, readOnly bool) error {
	if mounted, err := isMountPoint(path); err != nil || mounted {
		return err
	}
	if err := os.MkdirAll(path, 0o750); err != nil {
		return err
	}
	if s.mode == ModeDirectory {
		return bindMount(s.volumeData(id), path, readOnly)
	}
	device, err := ensureLoop(s.imagePath(id), false)
	if err != nil {
		return err
	}
	formatted, err := hasFilesystem(device)
	if err != nil {
		return err
	}
	if formatted && strings.HasPrefix(access.fsType, "ext") {
		grow, err := extNeedsGrowing(device)
		if err == nil && grow && !readOnly {
			err = growOffline(device)
		}
		if err != nil {
			return err
		}
	}
	if !formatted {
		if readOnly {
			return nodeFailure(codes.FailedPrecondition, "volume %s holds no filesystem and is published read-only: cannot format it", id)
		}
		if err := makeFilesystem(device, access.fsType); err != nil {
			return err
		}
	}
	options := "rw"
	if readOnly {
		options = "ro"
	}
	return runTool("mount", "-t", access.fsType, "-o", options, device, path)
}

// unpublish unmounts and removes target; the last user of a volume detaches its loop devices.
func (s *Store) unpublish(id, target string) error {
	return s.withNodeLock(id, func(record *NodeRecord) error {
		if err := unmountAll(target); err != nil {
			return err
		}
		if err := removeIfPresent(target); err != nil {
			return err
		}
		record.Targets = slices.DeleteFunc(record.Targets, func(p Publication) bool { return p.Path == target })
		return s.detachUnused(id, record)
	})
}

func (s *Store) detachUnused(id string, record *NodeRecord) error {
	if !record.empty() {
		return nil
	}
	return detachLoops(s.imagePath(id))
}
