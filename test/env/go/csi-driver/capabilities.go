package main

import (
	"fmt"

	"github.com/container-storage-interface/spec/lib/go/csi"
)

const (
	accessBlock = "block"
	accessMount = "mount"
	defaultFs   = "ext4"
)

// requestedAccess is the access type and fs type a set of capabilities asks for.
type requestedAccess struct {
	accessType string
	fsType     string
}

// checkCapabilities returns what the capabilities ask for, or why this driver cannot serve them.
func (d *Driver) checkCapabilities(capabilities []*csi.VolumeCapability) (requestedAccess, error) {
	if len(capabilities) == 0 {
		return requestedAccess{}, fmt.Errorf("volume_capabilities are required")
	}
	var access requestedAccess
	for _, capability := range capabilities {
		one, err := d.checkCapability(capability)
		if err != nil {
			return requestedAccess{}, err
		}
		if access.accessType != "" && access != one {
			return requestedAccess{}, fmt.Errorf("volume_capabilities mix %s and %s access; ask for one", access.accessType, one.accessType)
		}
		access = one
	}
	return access, nil
}

func (d *Driver) checkCapability(capability *csi.VolumeCapability) (requestedAccess, error) {
	if capability.GetAccessMode() == nil {
		return requestedAccess{}, fmt.Errorf("volume capability without access_mode")
	}
	mode := capability.GetAccessMode().GetMode()
	if mode == csi.VolumeCapability_AccessMode_UNKNOWN {
		return requestedAccess{}, fmt.Errorf("volume capability with access mode UNKNOWN")
	}
	switch {
	case capability.GetBlock() != nil:
		if d.store.mode == ModeDirectory {
			return requestedAccess{}, fmt.Errorf("block volumes are not supported by %s (directory mode): use volumeMode Filesystem", d.name)
		}
		return requestedAccess{accessType: accessBlock}, nil
	case capability.GetMount() != nil:
		if d.store.mode == ModeDirectory {
			return requestedAccess{accessType: accessMount}, nil
		}
		// One ext4 mounted read-write on two nodes corrupts it; real block drivers refuse this too.
		if mode == csi.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER || mode == csi.VolumeCapability_AccessMode_MULTI_NODE_SINGLE_WRITER {
			return requestedAccess{}, fmt.Errorf("access mode %s is not supported for Filesystem volumes of %s (block mode): use ReadWriteOnce", mode, d.name)
		}
		fsType := capability.GetMount().GetFsType()
		if fsType == "" {
			fsType = defaultFs
		}
		if err := checkFsType(fsType); err != nil {
			return requestedAccess{}, err
		}
		return requestedAccess{accessType: accessMount, fsType: fsType}, nil
	}
	return requestedAccess{}, fmt.Errorf("volume capability without access_type (block or mount)")
}
