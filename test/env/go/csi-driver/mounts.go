package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// mountEntry is one line of /proc/self/mountinfo.
type mountEntry struct {
	root       string // the path inside the mounted filesystem (a bind mount of /dev/loop3 has /loop3)
	mountPoint string
	options    string // per-mount options: rw or ro first
	fsType     string
	source     string
}

func mountTable() ([]mountEntry, error) {
	file, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var entries []mountEntry
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		separator := -1
		for i, field := range fields {
			if field == "-" {
				separator = i
				break
			}
		}
		if separator < 5 || len(fields) < separator+3 {
			continue
		}
		entries = append(entries, mountEntry{
			root:       unescapeMountField(fields[3]),
			mountPoint: unescapeMountField(fields[4]),
			options:    fields[5],
			fsType:     fields[separator+1],
			source:     unescapeMountField(fields[separator+2]),
		})
	}
	return entries, scanner.Err()
}

// unescapeMountField undoes the octal escapes (\040 for a space) the kernel writes.
func unescapeMountField(field string) string {
	var out strings.Builder
	for i := 0; i < len(field); i++ {
		if field[i] == '\\' && i+3 < len(field) {
			if value, err := strconv.ParseUint(field[i+1:i+4], 8, 8); err == nil {
				out.WriteByte(byte(value))
				i += 3
				continue
			}
		}
		out.WriteByte(field[i])
	}
	return out.String()
}

func isMountPoint(path string) (bool, error) {
	entries, err := mountTable()
	if err != nil {
		return false, err
	}
	clean := filepath.Clean(path)
	for _, entry := range entries {
		if entry.mountPoint == clean {
			return true, nil
		}
	}
	return false, nil
}

// unmountAll unmounts path until nothing is mounted there (a path can carry stacked mounts).
func unmountAll(path string) error {
	for {
		mounted, err := isMountPoint(path)
		if err != nil || !mounted {
			return err
		}
		if err := runTool("umount", path); err != nil {
			return err
		}
	}
}

// loopDevice is one attached loop device as losetup lists it.
type loopDevice struct {
	Name     string `json:"name"`
	BackFile string `json:"back-file"`
	ReadOnly bool   `json:"ro"`
}

func loopDevices() ([]loopDevice, error) {
	output, err := toolOutput("losetup", "--list", "--json", "--output", "NAME,BACK-FILE,RO")
	if err != nil || output == "" {
		return nil, err
	}
	var listing struct {
		LoopDevices []loopDevice `json:"loopdevices"`
	}
	if err := json.Unmarshal([]byte(output), &listing); err != nil {
		return nil, err
	}
	for i := range listing.LoopDevices {
		// losetup marks a backing file that was deleted while attached.
		listing.LoopDevices[i].BackFile = strings.TrimSuffix(listing.LoopDevices[i].BackFile, " (deleted)")
	}
	return listing.LoopDevices, nil
}

// loopsOf lists the loop devices attached to an image (what `losetup -j IMAGE` shows).
func loopsOf(image string) ([]loopDevice, error) {
	all, err := loopDevices()
	if err != nil {
		return nil, err
	}
	var attached []loopDevice
	for _, device := range all {
		if device.BackFile == image {
			attached = append(attached, device)
		}
	}
	return attached, nil
}

// ensureLoop returns a loop device of the image with the wanted read-only flag, attaching one if needed.
func ensureLoop(image string, readOnly bool) (string, error) {
	attached, err := loopsOf(image)
	if err != nil {
		return "", err
	}
	for _, device := range attached {
		if device.ReadOnly == readOnly {
			return device.Name, nil
		}
	}
	args := []string{"--find", "--show"}
	if readOnly {
		args = append(args, "--read-only")
	}
	return toolOutput("losetup", append(args, image)...)
}

func detachLoops(image string) error {
	attached, err := loopsOf(image)
	if err != nil {
		return err
	}
	for _, device := range attached {
		if err := runTool("losetup", "--detach", device.Name); err != nil {
			return err
		}
	}
	return nil
}

// hasFilesystem tells whether blkid finds a filesystem signature on a device or image.
func hasFilesystem(path string) (bool, error) {
	err := exec.Command("blkid", "--probe", "--match-tag", "TYPE", path).Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 2 {
		return false, nil
	}
	return err == nil, err
}

func bindMount(source, target string, readOnly bool) error {
	args := []string{"--bind"}
	if readOnly {
		args = append(args, "-o", "ro")
	}
	return runTool("mount", append(args, source, target)...)
}
