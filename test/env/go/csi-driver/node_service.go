package main

import (
	"context"
	"errors"
	"os"
	"syscall"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxVolumesPerNode is what NodeGetInfo reports; loop devices are a finite host resource.
const maxVolumesPerNode = 128

func (d *Driver) NodeGetCapabilities(context.Context, *csi.NodeGetCapabilitiesRequest) (*csi.NodeGetCapabilitiesResponse, error) {
	var capabilities []*csi.NodeServiceCapability
	for _, kind := range []csi.NodeServiceCapability_RPC_Type{
		csi.NodeServiceCapability_RPC_STAGE_UNSTAGE_VOLUME,
		csi.NodeServiceCapability_RPC_EXPAND_VOLUME,
		csi.NodeServiceCapability_RPC_GET_VOLUME_STATS,
		csi.NodeServiceCapability_RPC_SINGLE_NODE_MULTI_WRITER,
	} {
		capabilities = append(capabilities, &csi.NodeServiceCapability{
			Type: &csi.NodeServiceCapability_Rpc{Rpc: &csi.NodeServiceCapability_RPC{Type: kind}},
		})
	}
	return &csi.NodeGetCapabilitiesResponse{Capabilities: capabilities}, nil
}

func (d *Driver) NodeGetInfo(context.Context, *csi.NodeGetInfoRequest) (*csi.NodeGetInfoResponse, error) {
	info := &csi.NodeGetInfoResponse{NodeId: d.nodeID, MaxVolumesPerNode: maxVolumesPerNode}
	if d.zone != "" {
		info.AccessibleTopology = zoneTopology(d.zone)[0]
	}
	return info, nil
}

func (d *Driver) NodeStageVolume(_ context.Context, req *csi.NodeStageVolumeRequest) (*csi.NodeStageVolumeResponse, error) {
	if err := required("volume_id", req.GetVolumeId(), "staging_target_path", req.GetStagingTargetPath()); err != nil {
		return nil, err
	}
	access, err := d.nodeAccess(req.GetVolumeCapability())
	if err != nil {
		return nil, err
	}
	return &csi.NodeStageVolumeResponse{}, d.store.stage(req.GetVolumeId(), req.GetStagingTargetPath(), access)
}

func (d *Driver) NodeUnstageVolume(_ context.Context, req *csi.NodeUnstageVolumeRequest) (*csi.NodeUnstageVolumeResponse, error) {
	if err := required("volume_id", req.GetVolumeId(), "staging_target_path", req.GetStagingTargetPath()); err != nil {
		return nil, err
	}
	return &csi.NodeUnstageVolumeResponse{}, d.store.unstage(req.GetVolumeId(), req.GetStagingTargetPath())
}

func (d *Driver) NodePublishVolume(_ context.Context, req *csi.NodePublishVolumeRequest) (*csi.NodePublishVolumeResponse, error) {
	if err := required("volume_id", req.GetVolumeId(), "target_path", req.GetTargetPath()); err != nil {
		return nil, err
	}
	access, err := d.nodeAccess(req.GetVolumeCapability())
	if err != nil {
		return nil, err
	}
	if req.GetStagingTargetPath() == "" {
		return nil, status.Error(codes.FailedPrecondition, "staging_target_path is required: this driver stages volumes")
	}
	singleWriter := req.GetVolumeCapability().GetAccessMode().GetMode() == csi.VolumeCapability_AccessMode_SINGLE_NODE_SINGLE_WRITER
	_, err = d.store.publish(req.GetVolumeId(), req.GetStagingTargetPath(), req.GetTargetPath(), access, req.GetReadonly(), singleWriter)
	return &csi.NodePublishVolumeResponse{}, err
}

func (d *Driver) NodeUnpublishVolume(_ context.Context, req *csi.NodeUnpublishVolumeRequest) (*csi.NodeUnpublishVolumeResponse, error) {
	if err := required("volume_id", req.GetVolumeId(), "target_path", req.GetTargetPath()); err != nil {
		return nil, err
	}
	return &csi.NodeUnpublishVolumeResponse{}, d.store.unpublish(req.GetVolumeId(), req.GetTargetPath())
}

func (d *Driver) NodeGetVolumeStats(_ context.Context, req *csi.NodeGetVolumeStatsRequest) (*csi.NodeGetVolumeStatsResponse, error) {
	if err := required("volume_id", req.GetVolumeId(), "volume_path", req.GetVolumePath()); err != nil {
		return nil, err
	}
	if err := d.store.checkVolumeData(req.GetVolumeId()); err != nil {
		return nil, err
	}
	info, err := os.Stat(req.GetVolumePath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, status.Errorf(codes.NotFound, "volume %s is not published at %s", req.GetVolumeId(), req.GetVolumePath())
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if !info.IsDir() {
		image, err := os.Stat(d.store.imagePath(req.GetVolumeId()))
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		return &csi.NodeGetVolumeStatsResponse{Usage: []*csi.VolumeUsage{{Unit: csi.VolumeUsage_BYTES, Total: image.Size()}}}, nil
	}
	var stats syscall.Statfs_t
	if err := syscall.Statfs(req.GetVolumePath(), &stats); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	blockSize := stats.Bsize
	return &csi.NodeGetVolumeStatsResponse{Usage: []*csi.VolumeUsage{
		{
			Unit: csi.VolumeUsage_BYTES, Total: int64(stats.Blocks) * blockSize,
			Available: int64(stats.Bavail) * blockSize, Used: int64(stats.Blocks-stats.Bfree) * blockSize,
		},
		{
			Unit: csi.VolumeUsage_INODES, Total: int64(stats.Files),
			Available: int64(stats.Ffree), Used: int64(stats.Files - stats.Ffree),
		},
	}}, nil
}

// NodeExpandVolume tells the loop devices the image grew and grows the filesystem on them.
func (d *Driver) NodeExpandVolume(_ context.Context, req *csi.NodeExpandVolumeRequest) (*csi.NodeExpandVolumeResponse, error) {
	if err := required("volume_id", req.GetVolumeId(), "volume_path", req.GetVolumePath()); err != nil {
		return nil, err
	}
	if err := d.store.checkVolumeData(req.GetVolumeId()); err != nil {
		return nil, err
	}
	if _, err := os.Stat(req.GetVolumePath()); err != nil {
		return nil, status.Errorf(codes.NotFound, "volume %s is not published at %s", req.GetVolumeId(), req.GetVolumePath())
	}
	if d.store.mode == ModeDirectory {
		return &csi.NodeExpandVolumeResponse{}, nil
	}
	size, err := d.store.expandOnNode(req.GetVolumeId())
	if err != nil {
		return nil, status.Errorf(codes.Internal, "expanding volume %s at %s: %v", req.GetVolumeId(), req.GetVolumePath(), err)
	}
	return &csi.NodeExpandVolumeResponse{CapacityBytes: size}, nil
}

func (d *Driver) nodeAccess(capability *csi.VolumeCapability) (requestedAccess, error) {
	if capability == nil {
		return requestedAccess{}, status.Error(codes.InvalidArgument, "volume_capability is required")
	}
	access, err := d.checkCapability(capability)
	if err != nil {
		return requestedAccess{}, status.Error(codes.InvalidArgument, err.Error())
	}
	return access, nil
}

// required refuses a request that lacks one of the named fields (given as name, value pairs).
func required(namesAndValues ...string) error {
	for i := 0; i+1 < len(namesAndValues); i += 2 {
		if namesAndValues[i+1] == "" {
			return status.Errorf(codes.InvalidArgument, "%s is required", namesAndValues[i])
		}
	}
	return nil
}
