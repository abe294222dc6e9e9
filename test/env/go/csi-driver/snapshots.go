package main

import (
	"context"
	"errors"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// CreateSnapshot copies the volume at the cut; with snapshotDelaySeconds the snapshot reports
// ready only that long after, as a cloud snapshot uploading in the background does.
func (d *Driver) CreateSnapshot(_ context.Context, req *csi.CreateSnapshotRequest) (*csi.CreateSnapshotResponse, error) {
	if req.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "name is required")
	}
	if req.GetSourceVolumeId() == "" {
		return nil, status.Error(codes.InvalidArgument, "source_volume_id is required")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	id := objectID(req.GetName())
	if existing, err := d.store.snapshot(id); err == nil {
		if existing.SourceVolumeID != req.GetSourceVolumeId() {
			return nil, status.Errorf(codes.AlreadyExists,
				"snapshot %q exists for volume %s, not %s", req.GetName(), existing.SourceVolumeID, req.GetSourceVolumeId())
		}
		return &csi.CreateSnapshotResponse{Snapshot: d.snapshotMessage(existing)}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, status.Error(codes.Internal, err.Error())
	}
	volume, err := d.existingVolume(req.GetSourceVolumeId())
	if err != nil {
		return nil, err
	}
	syscall.Sync()
	record, err := d.cutSnapshot(id, req.GetName(), volume, req.GetParameters(), "")
	if err != nil {
		return nil, err
	}
	return &csi.CreateSnapshotResponse{Snapshot: d.snapshotMessage(record)}, nil
}

// cutSnapshot copies a volume that the caller has already flushed with sync.
func (d *Driver) cutSnapshot(id, name string, volume *VolumeRecord, parameters map[string]string, groupID string) (*SnapshotRecord, error) {
	class, err := parseClassParameters(volume.Parameters)
	if err != nil {
		return nil, err
	}
	cut := d.now().UTC()
	record := &SnapshotRecord{
		ID: id, Name: name, SourceVolumeID: volume.ID, SizeBytes: volume.CapacityBytes,
		Parameters: ownParameters(parameters), Zone: volume.Zone, FsType: volume.FsType,
		AccessType: volume.AccessType, CreatedAt: cut, ReadyAt: cut.Add(class.SnapshotDelay), GroupID: groupID,
	}
	final := d.store.snapshotData(id)
	partial := partialPath(final)
	if err := os.RemoveAll(partial); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if err := copyContents(d.store.mode, d.store.volumeData(volume.ID), partial, 0); err != nil {
		os.RemoveAll(partial)
		return nil, status.Errorf(codes.Internal, "copying volume %s: %v", volume.ID, err)
	}
	if err := os.RemoveAll(final); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if err := os.Rename(partial, final); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	if err := d.store.saveSnapshot(record); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return record, nil
}

func (d *Driver) snapshotMessage(record *SnapshotRecord) *csi.Snapshot {
	return &csi.Snapshot{
		SnapshotId:      record.ID,
		SourceVolumeId:  record.SourceVolumeID,
		SizeBytes:       record.SizeBytes,
		CreationTime:    timestamppb.New(record.CreatedAt),
		ReadyToUse:      !d.now().Before(record.ReadyAt),
		GroupSnapshotId: record.GroupID,
	}
}

func (d *Driver) DeleteSnapshot(_ context.Context, req *csi.DeleteSnapshotRequest) (*csi.DeleteSnapshotResponse, error) {
	return &csi.DeleteSnapshotResponse{}, d.deleting("snapshot_id", req.GetSnapshotId(), func(id string) error {
		if record, err := d.store.snapshot(id); err == nil && record.GroupID != "" {
			if _, err := d.store.group(record.GroupID); err == nil {
				return status.Errorf(codes.FailedPrecondition,
					"snapshot %s belongs to group snapshot %s; delete the group snapshot", id, record.GroupID)
			}
		}
		return d.store.removeSnapshot(id)
	})
}

// ListSnapshots pages through snapshots oldest first; the token is the offset of the next entry.
func (d *Driver) ListSnapshots(_ context.Context, req *csi.ListSnapshotsRequest) (*csi.ListSnapshotsResponse, error) {
	if req.GetMaxEntries() < 0 {
		return nil, status.Error(codes.InvalidArgument, "max_entries must not be negative")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	records, err := d.store.snapshots()
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	var matching []*SnapshotRecord
	for _, record := range records {
		if (req.GetSnapshotId() == "" || record.ID == req.GetSnapshotId()) &&
			(req.GetSourceVolumeId() == "" || record.SourceVolumeID == req.GetSourceVolumeId()) {
			matching = append(matching, record)
		}
	}
	start := 0
	if token := req.GetStartingToken(); token != "" {
		start, err = strconv.Atoi(token)
		if err != nil || start < 0 || start > len(matching) {
			return nil, status.Errorf(codes.Aborted, "starting_token %q is not a token this driver gave out", token)
		}
	}
	end := len(matching)
	if req.GetMaxEntries() > 0 {
		end = min(end, start+int(req.GetMaxEntries()))
	}
	response := &csi.ListSnapshotsResponse{}
	for _, record := range matching[start:end] {
		response.Entries = append(response.Entries, &csi.ListSnapshotsResponse_Entry{Snapshot: d.snapshotMessage(record)})
	}
	if end < len(matching) {
		response.NextToken = strconv.Itoa(end)
	}
	return response, nil
}

// readyAt is when every snapshot of a set is ready: the latest of their ready times.
func readyAt(records []*SnapshotRecord) time.Time {
	var latest time.Time
	for _, record := range records {
		if record.ReadyAt.After(latest) {
			latest = record.ReadyAt
		}
	}
	return latest
}
