package main

import (
	"slices"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// placeZone chooses the zone of a zonal volume: the first preferred topology, then the first
// requisite one, whose zone this driver serves; with no requirements, the first zone served.
func (d *Driver) placeZone(requirements *csi.TopologyRequirement) (string, error) {
	candidates := append(slices.Clone(requirements.GetPreferred()), requirements.GetRequisite()...)
	if len(candidates) == 0 {
		if len(d.zones) == 0 {
			return "", status.Error(codes.FailedPrecondition, "zonal volume requested but the driver was started without --zones")
		}
		return d.zones[0], nil
	}
	for _, topology := range candidates {
		zone := topology.GetSegments()[zoneKey]
		if zone != "" && (len(d.zones) == 0 || slices.Contains(d.zones, zone)) {
			return zone, nil
		}
	}
	return "", status.Errorf(codes.ResourceExhausted,
		"no zone of the accessibility requirements is served by %s (zones %v)", d.name, d.zones)
}

func zoneTopology(zone string) []*csi.Topology {
	if zone == "" {
		return nil
	}
	return []*csi.Topology{{Segments: map[string]string{zoneKey: zone}}}
}
