package main

import (
	"context"
	"errors"
	"maps"
	"os"
	"syscall"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func (d *Driver) CreateVolume(_ context.Context, req *csi.CreateVolumeRequest) (*csi.CreateVolumeResponse, error) {
	if req.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "name is required")
	}
	access, err := d.checkCapabilities(req.GetVolumeCapabilities())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	class, err := parseClassParameters(req.GetParameters())
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()

	id := objectID(req.GetName())
	source, sourceSize, err := d.resolveSource(req.GetVolumeContentSource())
	if err != nil {
		return nil, err
	}
	existing, err := d.store.volume(id)
	if err == nil {
		if !sameVolume(existing, req, access, source) {
			return nil, status.Errorf(codes.AlreadyExists,
				"volume %q exists with other size, access type, source or parameters (volume id %s)", req.GetName(), id)
		}
		return volumeResponse(existing), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, status.Error(codes.Internal, err.Error())
	}

	size, err := capacityFor(req.GetCapacityRange(), sourceSize, class.Zonal)
	if err != nil {
		return nil, err
	}
	record := &VolumeRecord{
		ID: id, Name: req.GetName(), CapacityBytes: size, Parameters: ownParameters(req.GetParameters()),
		Source: source, FsType: access.fsType, AccessType: access.accessType, CreatedAt: d.now().UTC(),
	}
	if class.Zonal {
		if record.Zone, err = d.placeZone(req.GetAccessibilityRequirements()); err != nil {
			return nil, err
		}
	}
	if err := d.writeVolumeContents(record, class); err != nil {
		return nil, status.Errorf(codes.Internal, "creating the contents of volume %s: %v", id, err)
	}
	if err := d.store.saveVolume(record); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return volumeResponse(record), nil
}

// resolveSource checks that a snapshot or volume to copy from exists and returns its size.
func (d *Driver) resolveSource(source *csi.VolumeContentSource) (*ContentSource, int64, error) {
	switch {
	case source == nil:
		return nil, 0, nil
	case source.GetSnapshot() != nil:
		id := source.GetSnapshot().GetSnapshotId()
		snapshot, err := d.existingSnapshot(id)
		if err != nil {
			return nil, 0, err
		}
		return &ContentSource{SnapshotID: id}, snapshot.SizeBytes, nil
	case source.GetVolume() != nil:
		id := source.GetVolume().GetVolumeId()
		volume, err := d.existingVolume(id)
		if err != nil {
			return nil, 0, err
		}
		return &ContentSource{VolumeID: id}, volume.CapacityBytes, nil
	}
	return nil, 0, status.Error(codes.InvalidArgument, "volume_content_source names neither a snapshot nor a volume")
}

func sameVolume(existing *VolumeRecord, req *csi.CreateVolumeRequest, access requestedAccess, source *ContentSource) bool {
	sameSource := (existing.Source == nil && source == nil) ||
		(existing.Source != nil && source != nil && *existing.Source == *source)
	return fits(existing.CapacityBytes, req.GetCapacityRange()) && existing.AccessType == access.accessType &&
		existing.FsType == access.fsType && sameSource && maps.Equal(existing.Parameters, ownParameters(req.GetParameters()))
}

// writeVolumeContents builds the volume beside its final place and renames it there, so a crash
// never leaves a half-made volume.
func (d *Driver) writeVolumeContents(record *VolumeRecord, class ClassParameters) error {
	final := d.store.volumeData(record.ID)
	partial := partialPath(final)
	if err := os.RemoveAll(partial); err != nil {
		return err
	}
	if err := d.buildVolume(record, class, partial); err != nil {
		os.RemoveAll(partial)
		return err
	}
	if err := os.RemoveAll(final); err != nil {
		return err
	}
	return os.Rename(partial, final)
}

func (d *Driver) buildVolume(record *VolumeRecord, class ClassParameters, path string) error {
	switch {
	case record.Source != nil && record.Source.SnapshotID != "":
		return copyContents(d.store.mode, d.store.snapshotData(record.Source.SnapshotID), path, record.CapacityBytes)
	case record.Source != nil:
		// The source may be mounted through a loop device: flush what its writers wrote.
		syscall.Sync()
		return copyContents(d.store.mode, d.store.volumeData(record.Source.VolumeID), path, record.CapacityBytes)
	case d.store.mode == ModeDirectory:
		return os.Mkdir(path, 0o755)
	}
	if err := newImage(path, record.CapacityBytes, class.Thick); err != nil {
		return err
	}
	if record.AccessType == accessMount {
		return makeFilesystem(path, record.FsType)
	}
	return nil
}

func volumeResponse(record *VolumeRecord) *csi.CreateVolumeResponse {
	volume := &csi.Volume{
		VolumeId:           record.ID,
		CapacityBytes:      record.CapacityBytes,
		AccessibleTopology: zoneTopology(record.Zone),
	}
	if record.Source != nil && record.Source.SnapshotID != "" {
		volume.ContentSource = &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{
			Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: record.Source.SnapshotID},
		}}
	} else if record.Source != nil {
		volume.ContentSource = &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Volume{
			Volume: &csi.VolumeContentSource_VolumeSource{VolumeId: record.Source.VolumeID},
		}}
	}
	return &csi.CreateVolumeResponse{Volume: volume}
}

func (d *Driver) existingVolume(id string) (*VolumeRecord, error) {
	return existing("volume", id, d.store.volume)
}

func (d *Driver) existingSnapshot(id string) (*SnapshotRecord, error) {
	return existing("snapshot", id, d.store.snapshot)
}

// existing loads a record, answering NOT_FOUND for ids that name nothing (or nothing we could make).
func existing[T any](kind, id string, load func(string) (*T, error)) (*T, error) {
	if !validID(id) {
		return nil, status.Errorf(codes.NotFound, "%s %q does not exist", kind, id)
	}
	record, err := load(id)
	if errors.Is(err, os.ErrNotExist) {
		return nil, status.Errorf(codes.NotFound, "%s %q does not exist", kind, id)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return record, nil
}
