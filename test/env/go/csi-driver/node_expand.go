package main

import (
	"os"
	"strconv"
	"strings"
)

// expandOnNode refreshes the size of the image's loop devices and grows the filesystem mounted
// from them. It returns the image size.
func (s *Store) expandOnNode(id string) (int64, error) {
	var size int64
	err := s.withNodeLock(id, func(*NodeRecord) error {
		image, err := os.Stat(s.imagePath(id))
		if err != nil {
			return err
		}
		size = image.Size()
		devices, err := loopsOf(s.imagePath(id))
		if err != nil {
			return err
		}
		entries, err := mountTable()
		if err != nil {
			return err
		}
		for _, device := range devices {
			if err := runTool("losetup", "--set-capacity", device.Name); err != nil {
				return err
			}
			var mounts []mountEntry
			for _, entry := range entries {
				if entry.source == device.Name {
					mounts = append(mounts, entry)
				}
			}
			if len(mounts) > 0 {
				if err := growMounted(device.Name, mounts); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return size, err
}

// growMounted grows a mounted filesystem online. ext4 online resizing needs CAP_SYS_RESOURCE,
// which a container may lack: then the mounts are taken down, the filesystem grown offline,
// and the same mounts put back.
func growMounted(device string, mounts []mountEntry) error {
	fsType := mounts[0].fsType
	if fsType == "xfs" {
		return runTool("xfs_growfs", mounts[0].mountPoint)
	}
	if hasCapability(capSysResource) {
		return runTool("resize2fs", device)
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := runTool("umount", mounts[i].mountPoint); err != nil {
			return err
		}
	}
	growErr := growOffline(device)
	for _, mount := range mounts {
		access := strings.SplitN(mount.options, ",", 2)[0]
		if err := runTool("mount", "-t", fsType, "-o", access, device, mount.mountPoint); err != nil {
			return err
		}
	}
	return growErr
}

// growOffline grows an unmounted ext filesystem to its device, after the check resize2fs demands.
func growOffline(device string) error {
	if err := runTool("e2fsck", "-f", "-p", device); err != nil {
		return err
	}
	return runTool("resize2fs", device)
}

// extNeedsGrowing tells whether an ext filesystem is smaller than its device, as after an
// expansion made while the volume was not mounted.
func extNeedsGrowing(device string) (bool, error) {
	header, err := toolOutput("dumpe2fs", "-h", device)
	if err != nil {
		return false, err
	}
	blocks, blockSize := int64(0), int64(0)
	for _, line := range strings.Split(header, "\n") {
		key, value, _ := strings.Cut(line, ":")
		switch strings.TrimSpace(key) {
		case "Block count":
			blocks, _ = strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		case "Block size":
			blockSize, _ = strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		}
	}
	deviceSize, err := toolOutput("blockdev", "--getsize64", device)
	if err != nil {
		return false, err
	}
	size, err := strconv.ParseInt(deviceSize, 10, 64)
	return err == nil && blocks*blockSize+blockSize <= size, err
}

const capSysResource = 24

func hasCapability(bit uint) bool {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(status), "\n") {
		if value, found := strings.CutPrefix(line, "CapEff:"); found {
			mask, err := strconv.ParseUint(strings.TrimSpace(value), 16, 64)
			return err == nil && mask&(1<<bit) != 0
		}
	}
	return false
}
