package main

import (
	"context"
	"errors"
	"os"
	"slices"
	"syscall"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func (d *Driver) GroupControllerGetCapabilities(context.Context, *csi.GroupControllerGetCapabilitiesRequest) (*csi.GroupControllerGetCapabilitiesResponse, error) {
	return &csi.GroupControllerGetCapabilitiesResponse{Capabilities: []*csi.GroupControllerServiceCapability{{
		Type: &csi.GroupControllerServiceCapability_Rpc{Rpc: &csi.GroupControllerServiceCapability_RPC{
			Type: csi.GroupControllerServiceCapability_RPC_CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT,
		}},
	}}}, nil
}

// CreateVolumeGroupSnapshot cuts every member at one instant: the members' mounted filesystems
// frozen (freeze.go), one sync, then a copy of each while no other controller call runs.
func (d *Driver) CreateVolumeGroupSnapshot(_ context.Context, req *csi.CreateVolumeGroupSnapshotRequest) (*csi.CreateVolumeGroupSnapshotResponse, error) {
	if req.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "name is required")
	}
	if len(req.GetSourceVolumeIds()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "source_volume_ids are required")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	id := objectID(req.GetName())
	if existing, err := d.store.group(id); err == nil {
		members, err := d.groupMembers(existing)
		if err != nil {
			return nil, err
		}
		if !sameSources(members, req.GetSourceVolumeIds()) {
			return nil, status.Errorf(codes.AlreadyExists, "group snapshot %q exists for other volumes", req.GetName())
		}
		return &csi.CreateVolumeGroupSnapshotResponse{GroupSnapshot: d.groupMessage(existing, members)}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, status.Error(codes.Internal, err.Error())
	}
	volumes := make([]*VolumeRecord, 0, len(req.GetSourceVolumeIds()))
	for _, volumeID := range req.GetSourceVolumeIds() {
		volume, err := d.existingVolume(volumeID)
		if err != nil {
			return nil, err
		}
		volumes = append(volumes, volume)
	}
	thaw, err := d.freezeFilesystems(volumes)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "freezing the group's filesystems: %v", err)
	}
	thawed := false
	defer func() {
		if !thawed {
			thaw()
		}
	}()
	syscall.Sync()
	group := &GroupRecord{ID: id, Name: req.GetName(), CreatedAt: d.now().UTC()}
	members := make([]*SnapshotRecord, 0, len(volumes))
	for _, volume := range volumes {
		memberName := req.GetName() + "/" + volume.ID
		member, err := d.cutSnapshot(objectID(memberName), memberName, volume, req.GetParameters(), id)
		if err != nil {
			return nil, err
		}
		members = append(members, member)
		group.SnapshotIDs = append(group.SnapshotIDs, member.ID)
	}
	thawed = true
	if err := thaw(); err != nil {
		return nil, status.Errorf(codes.Internal, "thawing the group's filesystems: %v", err)
	}
	if err := d.store.saveGroup(group); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &csi.CreateVolumeGroupSnapshotResponse{GroupSnapshot: d.groupMessage(group, members)}, nil
}

func (d *Driver) GetVolumeGroupSnapshot(_ context.Context, req *csi.GetVolumeGroupSnapshotRequest) (*csi.GetVolumeGroupSnapshotResponse, error) {
	if req.GetGroupSnapshotId() == "" {
		return nil, status.Error(codes.InvalidArgument, "group_snapshot_id is required")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	group, err := existing("group snapshot", req.GetGroupSnapshotId(), d.store.group)
	if err != nil {
		return nil, err
	}
	members, err := d.groupMembers(group)
	if err != nil {
		return nil, err
	}
	return &csi.GetVolumeGroupSnapshotResponse{GroupSnapshot: d.groupMessage(group, members)}, nil
}

// DeleteVolumeGroupSnapshot deletes the group and its member snapshots.
func (d *Driver) DeleteVolumeGroupSnapshot(_ context.Context, req *csi.DeleteVolumeGroupSnapshotRequest) (*csi.DeleteVolumeGroupSnapshotResponse, error) {
	return &csi.DeleteVolumeGroupSnapshotResponse{}, d.deleting("group_snapshot_id", req.GetGroupSnapshotId(), func(id string) error {
		group, err := d.store.group(id)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		// The group goes first: should we stop half way, the members left are ordinary snapshots.
		if err := d.store.removeGroup(id); err != nil {
			return err
		}
		for _, snapshotID := range group.SnapshotIDs {
			if err := d.store.removeSnapshot(snapshotID); err != nil {
				return err
			}
		}
		return nil
	})
}

func (d *Driver) groupMembers(group *GroupRecord) ([]*SnapshotRecord, error) {
	members := make([]*SnapshotRecord, 0, len(group.SnapshotIDs))
	for _, snapshotID := range group.SnapshotIDs {
		member, err := d.existingSnapshot(snapshotID)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "group snapshot %s lost its member: %v", group.ID, err)
		}
		members = append(members, member)
	}
	return members, nil
}

func sameSources(members []*SnapshotRecord, volumeIDs []string) bool {
	sources := make([]string, 0, len(members))
	for _, member := range members {
		sources = append(sources, member.SourceVolumeID)
	}
	requested := slices.Clone(volumeIDs)
	slices.Sort(sources)
	slices.Sort(requested)
	return slices.Equal(sources, requested)
}

func (d *Driver) groupMessage(group *GroupRecord, members []*SnapshotRecord) *csi.VolumeGroupSnapshot {
	message := &csi.VolumeGroupSnapshot{
		GroupSnapshotId: group.ID,
		CreationTime:    timestamppb.New(group.CreatedAt),
		ReadyToUse:      !d.now().Before(readyAt(members)),
	}
	for _, member := range members {
		message.Snapshots = append(message.Snapshots, d.snapshotMessage(member))
	}
	return message
}
