package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"syscall"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func (d *Driver) ControllerGetCapabilities(context.Context, *csi.ControllerGetCapabilitiesRequest) (*csi.ControllerGetCapabilitiesResponse, error) {
	var capabilities []*csi.ControllerServiceCapability
	for _, kind := range []csi.ControllerServiceCapability_RPC_Type{
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_VOLUME,
		csi.ControllerServiceCapability_RPC_CREATE_DELETE_SNAPSHOT,
		csi.ControllerServiceCapability_RPC_LIST_SNAPSHOTS,
		csi.ControllerServiceCapability_RPC_CLONE_VOLUME,
		csi.ControllerServiceCapability_RPC_EXPAND_VOLUME,
		csi.ControllerServiceCapability_RPC_GET_CAPACITY,
	} {
		capabilities = append(capabilities, &csi.ControllerServiceCapability{
			Type: &csi.ControllerServiceCapability_Rpc{Rpc: &csi.ControllerServiceCapability_RPC{Type: kind}},
		})
	}
	return &csi.ControllerGetCapabilitiesResponse{Capabilities: capabilities}, nil
}

func (d *Driver) DeleteVolume(_ context.Context, req *csi.DeleteVolumeRequest) (*csi.DeleteVolumeResponse, error) {
	return &csi.DeleteVolumeResponse{}, d.deleting("volume_id", req.GetVolumeId(), func(id string) error {
		if users, err := d.store.publications(id); err != nil {
			return err
		} else if len(users) > 0 {
			return status.Errorf(codes.FailedPrecondition, "volume %s is still published at %v; unpublish it first", id, users)
		}
		return d.store.removeVolume(id)
	})
}

// deleting runs remove for a delete call: the id is required, and one that names nothing we
// could have made is already deleted (deletes are idempotent).
func (d *Driver) deleting(field, id string, remove func(id string) error) error {
	if id == "" {
		return status.Errorf(codes.InvalidArgument, "%s is required", field)
	}
	if !validID(id) {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := remove(id); err != nil {
		if _, isStatus := status.FromError(err); isStatus {
			return err
		}
		return status.Error(codes.Internal, err.Error())
	}
	return nil
}

func (d *Driver) ValidateVolumeCapabilities(_ context.Context, req *csi.ValidateVolumeCapabilitiesRequest) (*csi.ValidateVolumeCapabilitiesResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id is required")
	}
	if len(req.GetVolumeCapabilities()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "volume_capabilities are required")
	}
	volume, err := d.existingVolume(req.GetVolumeId())
	if err != nil {
		return nil, err
	}
	if _, err := d.checkCapabilities(req.GetVolumeCapabilities()); err != nil {
		return &csi.ValidateVolumeCapabilitiesResponse{Message: fmt.Sprintf("volume %s: %v", volume.ID, err)}, nil
	}
	return &csi.ValidateVolumeCapabilitiesResponse{Confirmed: &csi.ValidateVolumeCapabilitiesResponse_Confirmed{
		VolumeContext:      req.GetVolumeContext(),
		VolumeCapabilities: req.GetVolumeCapabilities(),
		Parameters:         req.GetParameters(),
	}}, nil
}

// GetCapacity reports the free space of --root, and nothing for zones the driver does not serve.
func (d *Driver) GetCapacity(_ context.Context, req *csi.GetCapacityRequest) (*csi.GetCapacityResponse, error) {
	if zone := req.GetAccessibleTopology().GetSegments()[zoneKey]; zone != "" && len(d.zones) > 0 && !slices.Contains(d.zones, zone) {
		return &csi.GetCapacityResponse{}, nil
	}
	var stats syscall.Statfs_t
	if err := syscall.Statfs(d.store.root, &stats); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &csi.GetCapacityResponse{AvailableCapacity: int64(stats.Bavail) * stats.Bsize}, nil
}

// ControllerExpandVolume grows the image; a filesystem inside it is grown by NodeExpandVolume.
func (d *Driver) ControllerExpandVolume(_ context.Context, req *csi.ControllerExpandVolumeRequest) (*csi.ControllerExpandVolumeResponse, error) {
	if req.GetVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "volume_id is required")
	}
	if req.GetCapacityRange() == nil {
		return nil, status.Error(codes.InvalidArgument, "capacity_range is required")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	volume, err := d.existingVolume(req.GetVolumeId())
	if err != nil {
		return nil, err
	}
	class, err := parseClassParameters(volume.Parameters)
	if err != nil {
		return nil, err
	}
	size, err := capacityFor(req.GetCapacityRange(), volume.CapacityBytes, class.Zonal)
	if err != nil {
		return nil, err
	}
	if size > volume.CapacityBytes {
		if d.store.mode == ModeBlock {
			if err := os.Truncate(d.store.volumeData(volume.ID), size); err != nil {
				return nil, status.Error(codes.Internal, err.Error())
			}
		}
		volume.CapacityBytes = size
		if err := d.store.saveVolume(volume); err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
	}
	return &csi.ControllerExpandVolumeResponse{
		CapacityBytes:         volume.CapacityBytes,
		NodeExpansionRequired: d.store.mode == ModeBlock && volume.AccessType == accessMount,
	}, nil
}
