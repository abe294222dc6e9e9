package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The FIFREEZE and FITHAW ioctls of linux/fs.h, _IOWR('X', 119, int) and _IOWR('X', 120, int),
// which golang.org/x/sys/unix does not name.
const (
	fiFreeze = 0xC0045877
	fiThaw   = 0xC0045878
)

// freezeFilesystems freezes (FIFREEZE) every filesystem mounted on this host from the volumes'
// images, as a storage array suspends a consistency group's I/O: the freeze flushes each one and
// holds its writers until thaw, so copies taken one after another still show one instant. A Block
// member has no filesystem to freeze here; it gets the group's one sync only. The returned thaw
// must run however the cut ends.
func (d *Driver) freezeFilesystems(volumes []*VolumeRecord) (thaw func() error, err error) {
	var frozen []*os.File
	thaw = func() error {
		var errs []error
		for _, dir := range frozen {
			if err := unix.IoctlSetInt(int(dir.Fd()), fiThaw, 0); err != nil {
				errs = append(errs, fmt.Errorf("thawing %s: %w", dir.Name(), err))
			}
			dir.Close()
		}
		return errors.Join(errs...)
	}
	if d.store.mode != ModeBlock {
		return thaw, nil
	}
	entries, err := mountTable()
	if err != nil {
		return thaw, err
	}
	for _, volume := range volumes {
		loops, err := loopsOf(d.store.volumeData(volume.ID))
		if err != nil {
			return thaw, errors.Join(err, thaw())
		}
		for _, loop := range loops {
			// Staging and bind-published targets share one superblock: freezing one mount freezes all.
			for _, entry := range entries {
				if entry.source != loop.Name {
					continue
				}
				dir, err := os.Open(entry.mountPoint)
				if err != nil {
					return thaw, errors.Join(err, thaw())
				}
				if err := unix.IoctlSetInt(int(dir.Fd()), fiFreeze, 0); err != nil {
					dir.Close()
					return thaw, errors.Join(fmt.Errorf("freezing %s of volume %s: %w", entry.mountPoint, volume.ID, err), thaw())
				}
				frozen = append(frozen, dir)
				break
			}
		}
	}
	return thaw, nil
}
