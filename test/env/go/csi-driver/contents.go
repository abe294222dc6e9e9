package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// leftoverPattern is what a thick volume holds before anyone writes it: never zeros, so code that
// assumes a fresh volume reads zeros is caught.
var leftoverPattern = []byte("kubeferry leftover bytes of a previous tenant\n")

// newImage creates a raw image of size bytes: sparse zeros, or for thick volumes the leftover pattern.
func newImage(path string, size int64, thick bool) error {
	file, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer file.Close()
	if thick {
		chunk := bytes.Repeat(leftoverPattern, (1<<20)/len(leftoverPattern)+1)
		for written := int64(0); written < size; {
			n, err := file.Write(chunk[:min(int64(len(chunk)), size-written)])
			if err != nil {
				return err
			}
			written += int64(n)
		}
	}
	if err := file.Truncate(size); err != nil {
		return err
	}
	return file.Sync()
}

// supportedFsTypes are the filesystems a Filesystem volume may ask for, when their mkfs is installed.
var supportedFsTypes = []string{"ext3", "ext4", "xfs"}

func checkFsType(fsType string) error {
	for _, known := range supportedFsTypes {
		if fsType == known {
			if _, err := exec.LookPath("mkfs." + fsType); err != nil {
				return fmt.Errorf("fs type %q needs mkfs.%s, which is not installed on this host", fsType, fsType)
			}
			return nil
		}
	}
	return fmt.Errorf("fs type %q is not supported: use one of %s", fsType, strings.Join(supportedFsTypes, ", "))
}

// makeFilesystem formats an image or device. Discard is off so a thick image keeps its leftover
// bytes outside the filesystem's metadata, as on a real thick LUN.
func makeFilesystem(path, fsType string) error {
	args := []string{"-q", path}
	switch fsType {
	case "ext3", "ext4":
		args = []string{"-q", "-F", "-E", "nodiscard", path}
	case "xfs":
		args = []string{"-q", "-f", "-K", path}
	}
	return runTool("mkfs."+fsType, args...)
}

// copyContents copies a volume or snapshot: a sparse image copy grown to size, or a directory
// copy preserving modes, owners, links and times.
func copyContents(mode Mode, source, destination string, size int64) error {
	if mode == ModeDirectory {
		if err := os.Mkdir(destination, 0o755); err != nil {
			return err
		}
		return runTool("cp", "-a", "--", source+"/.", destination)
	}
	if err := runTool("cp", "--sparse=always", "--", source, destination); err != nil {
		return err
	}
	info, err := os.Stat(destination)
	if err != nil {
		return err
	}
	if info.Size() < size {
		return os.Truncate(destination, size)
	}
	return nil
}

func runTool(name string, args ...string) error {
	output, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(output)))
	}
	return nil
}

func toolOutput(name string, args ...string) (string, error) {
	var stderr bytes.Buffer
	command := exec.Command(name, args...)
	command.Stderr = &stderr
	output, err := command.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(output)), nil
}
