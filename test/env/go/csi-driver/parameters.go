package main

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ClassParameters are the StorageClass parameters CreateVolume understands.
type ClassParameters struct {
	// Thick volumes start with leftover non-zero bytes, as thick LVM or a SAN LUN does.
	Thick bool
	// Zonal volumes live in one zone and are sized in whole GiB, as cloud disks are.
	Zonal bool
	// SnapshotDelay is how long a snapshot of the volume stays not ready after the cut.
	SnapshotDelay time.Duration
}

// ownParameters drops the keys the external-provisioner adds for itself.
func ownParameters(parameters map[string]string) map[string]string {
	own := maps.Clone(parameters)
	maps.DeleteFunc(own, func(key, _ string) bool { return strings.HasPrefix(key, "csi.storage.k8s.io/") })
	return own
}

func parseClassParameters(parameters map[string]string) (ClassParameters, error) {
	var parsed ClassParameters
	var err error
	for key, value := range ownParameters(parameters) {
		switch key {
		case "thick":
			parsed.Thick, err = strconv.ParseBool(value)
		case "zonal":
			parsed.Zonal, err = strconv.ParseBool(value)
		case "snapshotDelaySeconds":
			var seconds int
			seconds, err = strconv.Atoi(value)
			if err == nil && seconds < 0 {
				err = fmt.Errorf("negative")
			}
			parsed.SnapshotDelay = time.Duration(seconds) * time.Second
		default:
			return parsed, status.Errorf(codes.InvalidArgument,
				"unknown parameter %q: this driver understands thick, zonal and snapshotDelaySeconds", key)
		}
		if err != nil {
			return parsed, status.Errorf(codes.InvalidArgument, "parameter %s=%q is not valid (%v)", key, value, err)
		}
	}
	return parsed, nil
}
