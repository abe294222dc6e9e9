package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The contract points csi-sanity does not check. They need root (mkfs, loop devices), as the
// driver does.

type clock struct{ at time.Time }

func (c *clock) now() time.Time { return c.at }

func newTestDriver(t *testing.T, mode Mode, root string, c *clock) *Driver {
	t.Helper()
	driver, err := newDriver(DriverConfig{
		Name: "test.csi.kubeferry.dev", NodeID: "node-1", Zone: "zone-a",
		Zones: []string{"zone-a", "zone-b", "zone-c"}, Root: root, Mode: mode,
	}, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return driver
}

func blockCapability() []*csi.VolumeCapability {
	return []*csi.VolumeCapability{{
		AccessType: &csi.VolumeCapability_Block{Block: &csi.VolumeCapability_BlockVolume{}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER},
	}}
}

func mountCapability(fsType string) []*csi.VolumeCapability {
	return []*csi.VolumeCapability{{
		AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{FsType: fsType}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_SINGLE_NODE_WRITER},
	}}
}

func create(t *testing.T, d *Driver, req *csi.CreateVolumeRequest) *csi.Volume {
	t.Helper()
	resp, err := d.CreateVolume(context.Background(), req)
	if err != nil {
		t.Fatalf("CreateVolume %s: %v", req.GetName(), err)
	}
	return resp.GetVolume()
}

func expectCode(t *testing.T, err error, code codes.Code) string {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("got %v, want code %s", err, code)
	}
	return status.Convert(err).Message()
}

func readImage(t *testing.T, d *Driver, id string) []byte {
	t.Helper()
	data, err := os.ReadFile(d.store.volumeData(id))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestThickVolumesHoldLeftoverBytesAndThinOnesZeros(t *testing.T) {
	d := newTestDriver(t, ModeBlock, t.TempDir(), &clock{time.Now()})
	size := &csi.CapacityRange{RequiredBytes: 4 << 20}
	thick := create(t, d, &csi.CreateVolumeRequest{Name: "thick", CapacityRange: size, VolumeCapabilities: blockCapability(),
		Parameters: map[string]string{"thick": "true", "csi.storage.k8s.io/pvc/name": "data"}})
	thin := create(t, d, &csi.CreateVolumeRequest{Name: "thin", CapacityRange: size, VolumeCapabilities: blockCapability()})

	thickBytes := readImage(t, d, thick.GetVolumeId())
	if len(thickBytes) != 4<<20 || bytes.Count(thickBytes, []byte{0}) != 0 || !bytes.Contains(thickBytes, leftoverPattern) {
		t.Fatalf("thick image: %d bytes, %d zeros", len(thickBytes), bytes.Count(thickBytes, []byte{0}))
	}
	if thinBytes := readImage(t, d, thin.GetVolumeId()); len(thinBytes) != 4<<20 || bytes.ContainsFunc(thinBytes, func(r rune) bool { return r != 0 }) {
		t.Fatal("thin image is not all zeros")
	}

	// A thick Filesystem volume keeps the leftovers where the filesystem has not written.
	fs := create(t, d, &csi.CreateVolumeRequest{Name: "thick-fs", CapacityRange: &csi.CapacityRange{RequiredBytes: 32 << 20},
		VolumeCapabilities: mountCapability(""), Parameters: map[string]string{"thick": "true"}})
	fsBytes := readImage(t, d, fs.GetVolumeId())
	if !bytes.Contains(fsBytes[len(fsBytes)-(1<<20):], leftoverPattern) {
		t.Fatal("thick ext4 image lost its leftover bytes to mkfs")
	}
}

func TestZonalVolumesArePlacedInOneZoneAndSizedInWholeGiB(t *testing.T) {
	d := newTestDriver(t, ModeBlock, t.TempDir(), &clock{time.Now()})
	zonal := map[string]string{"zonal": "true"}
	zone := func(name string) *csi.Topology { return &csi.Topology{Segments: map[string]string{zoneKey: name}} }
	volume := create(t, d, &csi.CreateVolumeRequest{
		Name: "zonal", CapacityRange: &csi.CapacityRange{RequiredBytes: gib + 1}, VolumeCapabilities: blockCapability(), Parameters: zonal,
		AccessibilityRequirements: &csi.TopologyRequirement{Requisite: []*csi.Topology{zone("zone-c"), zone("zone-b")}, Preferred: []*csi.Topology{zone("zone-b")}},
	})
	if volume.GetCapacityBytes() != 2*gib {
		t.Fatalf("capacity %d, want 2 GiB", volume.GetCapacityBytes())
	}
	if got := volume.GetAccessibleTopology(); len(got) != 1 || got[0].GetSegments()[zoneKey] != "zone-b" {
		t.Fatalf("accessible topology %v, want the preferred zone-b", got)
	}
	requisiteOnly := create(t, d, &csi.CreateVolumeRequest{Name: "zonal-requisite", VolumeCapabilities: blockCapability(), Parameters: zonal,
		AccessibilityRequirements: &csi.TopologyRequirement{Requisite: []*csi.Topology{zone("zone-x"), zone("zone-c")}}})
	if got := requisiteOnly.GetAccessibleTopology()[0].GetSegments()[zoneKey]; got != "zone-c" {
		t.Fatalf("zone %s, want the first served requisite zone-c", got)
	}
	_, err := d.CreateVolume(context.Background(), &csi.CreateVolumeRequest{Name: "nowhere", VolumeCapabilities: blockCapability(), Parameters: zonal,
		AccessibilityRequirements: &csi.TopologyRequirement{Requisite: []*csi.Topology{zone("zone-x")}}})
	expectCode(t, err, codes.ResourceExhausted)
	_, err = d.CreateVolume(context.Background(), &csi.CreateVolumeRequest{Name: "too-small-limit", VolumeCapabilities: blockCapability(),
		Parameters: zonal, CapacityRange: &csi.CapacityRange{RequiredBytes: 1 << 20, LimitBytes: 512 << 20}})
	expectCode(t, err, codes.OutOfRange)

	anywhere := create(t, d, &csi.CreateVolumeRequest{Name: "anywhere", CapacityRange: &csi.CapacityRange{RequiredBytes: gib + 1},
		VolumeCapabilities: blockCapability(), AccessibilityRequirements: &csi.TopologyRequirement{Requisite: []*csi.Topology{zone("zone-a")}}})
	if anywhere.GetAccessibleTopology() != nil || anywhere.GetCapacityBytes() != gib+1 {
		t.Fatalf("a volume without zonal got topology %v and size %d", anywhere.GetAccessibleTopology(), anywhere.GetCapacityBytes())
	}
}

func TestDirectoryModeRefusesBlockVolumes(t *testing.T) {
	d := newTestDriver(t, ModeDirectory, t.TempDir(), &clock{time.Now()})
	_, err := d.CreateVolume(context.Background(), &csi.CreateVolumeRequest{Name: "raw", VolumeCapabilities: blockCapability()})
	message := expectCode(t, err, codes.InvalidArgument)
	want := "block volumes are not supported by test.csi.kubeferry.dev (directory mode): use volumeMode Filesystem"
	if message != want {
		t.Fatalf("message %q, want %q", message, want)
	}
	if info, err := os.Stat(d.store.volumeData(create(t, d, &csi.CreateVolumeRequest{Name: "files", VolumeCapabilities: mountCapability("")}).GetVolumeId())); err != nil || !info.IsDir() {
		t.Fatalf("a directory-mode volume is not a directory: %v", err)
	}
}

func TestSnapshotsBecomeReadyAfterTheDelayAndHoldTheBytesOfTheCut(t *testing.T) {
	c := &clock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	d := newTestDriver(t, ModeBlock, t.TempDir(), c)
	volume := create(t, d, &csi.CreateVolumeRequest{Name: "slow", CapacityRange: &csi.CapacityRange{RequiredBytes: 1 << 20},
		VolumeCapabilities: blockCapability(), Parameters: map[string]string{"snapshotDelaySeconds": "180"}})
	image := d.store.volumeData(volume.GetVolumeId())
	if err := os.WriteFile(image, bytes.Repeat([]byte("a"), 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	snapshotReq := &csi.CreateSnapshotRequest{Name: "snap", SourceVolumeId: volume.GetVolumeId()}
	snapshot, err := d.CreateSnapshot(context.Background(), snapshotReq)
	if err != nil {
		t.Fatal(err)
	}
	if snapshot.GetSnapshot().GetReadyToUse() || snapshot.GetSnapshot().GetSizeBytes() != 1<<20 {
		t.Fatalf("fresh slow snapshot: %v", snapshot.GetSnapshot())
	}
	// Written after the cut: not in the snapshot.
	if err := os.WriteFile(image, bytes.Repeat([]byte("b"), 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	c.at = c.at.Add(179 * time.Second)
	if again, _ := d.CreateSnapshot(context.Background(), snapshotReq); again.GetSnapshot().GetReadyToUse() {
		t.Fatal("ready before its delay")
	}
	c.at = c.at.Add(time.Second)
	listed, err := d.ListSnapshots(context.Background(), &csi.ListSnapshotsRequest{SnapshotId: snapshot.GetSnapshot().GetSnapshotId()})
	if err != nil || len(listed.GetEntries()) != 1 || !listed.GetEntries()[0].GetSnapshot().GetReadyToUse() {
		t.Fatalf("not ready after its delay: %v %v", listed, err)
	}
	restored := create(t, d, &csi.CreateVolumeRequest{Name: "restored", CapacityRange: &csi.CapacityRange{RequiredBytes: 2 << 20},
		VolumeCapabilities: blockCapability(), VolumeContentSource: &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{
			Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: snapshot.GetSnapshot().GetSnapshotId()}}}})
	data := readImage(t, d, restored.GetVolumeId())
	if len(data) != 2<<20 || !bytes.Equal(data[:1<<20], bytes.Repeat([]byte("a"), 1<<20)) || bytes.ContainsFunc(data[1<<20:], func(r rune) bool { return r != 0 }) {
		t.Fatal("the larger restore does not hold the bytes of the cut followed by zeros")
	}
}

func TestFilesystemVolumesAreFormattedWithTheirFsType(t *testing.T) {
	d := newTestDriver(t, ModeBlock, t.TempDir(), &clock{time.Now()})
	for _, fsType := range []string{"ext3", "ext4", ""} {
		volume := create(t, d, &csi.CreateVolumeRequest{Name: "fs-" + fsType, CapacityRange: &csi.CapacityRange{RequiredBytes: 16 << 20},
			VolumeCapabilities: mountCapability(fsType)})
		got, err := toolOutput("blkid", "--probe", "--match-tag", "TYPE", "--output", "value", d.store.volumeData(volume.GetVolumeId()))
		if want := map[string]string{"": "ext4"}[fsType]; err != nil || got != max(want, fsType) {
			t.Fatalf("fs type %q: blkid says %q (%v)", fsType, got, err)
		}
	}
	_, err := d.CreateVolume(context.Background(), &csi.CreateVolumeRequest{Name: "odd", VolumeCapabilities: mountCapability("zfs-on-tape")})
	if message := expectCode(t, err, codes.InvalidArgument); !strings.Contains(message, `"zfs-on-tape"`) {
		t.Fatalf("the refusal does not name the fs type: %s", message)
	}
	raw := create(t, d, &csi.CreateVolumeRequest{Name: "raw", CapacityRange: &csi.CapacityRange{RequiredBytes: 16 << 20}, VolumeCapabilities: blockCapability()})
	if found, err := hasFilesystem(d.store.volumeData(raw.GetVolumeId())); err != nil || found {
		t.Fatalf("a Block volume was formatted (%v)", err)
	}
}

func TestAFilesystemSnapshotRestoresAsABlockVolumeWithTheSameBytes(t *testing.T) {
	d := newTestDriver(t, ModeBlock, t.TempDir(), &clock{time.Now()})
	fs := create(t, d, &csi.CreateVolumeRequest{Name: "fs", CapacityRange: &csi.CapacityRange{RequiredBytes: 16 << 20}, VolumeCapabilities: mountCapability("ext4")})
	snapshot, err := d.CreateSnapshot(context.Background(), &csi.CreateSnapshotRequest{Name: "fs-snap", SourceVolumeId: fs.GetVolumeId()})
	if err != nil {
		t.Fatal(err)
	}
	block := create(t, d, &csi.CreateVolumeRequest{Name: "as-block", CapacityRange: &csi.CapacityRange{RequiredBytes: 16 << 20},
		VolumeCapabilities: blockCapability(), VolumeContentSource: &csi.VolumeContentSource{Type: &csi.VolumeContentSource_Snapshot{
			Snapshot: &csi.VolumeContentSource_SnapshotSource{SnapshotId: snapshot.GetSnapshot().GetSnapshotId()}}}})
	if !bytes.Equal(readImage(t, d, block.GetVolumeId()), readImage(t, d, fs.GetVolumeId())) {
		t.Fatal("the Block restore differs from the Filesystem volume")
	}
}

func TestCreateVolumeIsIdempotentByNameAcrossRestarts(t *testing.T) {
	root := t.TempDir()
	d := newTestDriver(t, ModeBlock, root, &clock{time.Now()})
	req := &csi.CreateVolumeRequest{Name: "pvc-1234", CapacityRange: &csi.CapacityRange{RequiredBytes: 1 << 20}, VolumeCapabilities: blockCapability()}
	first := create(t, d, req)
	// A crash while copying leaves a partial file; the next server start removes it.
	partial := partialPath(d.store.volumeData("left-behind"))
	if err := os.WriteFile(partial, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	restarted := newTestDriver(t, ModeBlock, root, &clock{time.Now()})
	if again := create(t, restarted, req); again.GetVolumeId() != first.GetVolumeId() {
		t.Fatalf("same name, other id: %s vs %s", again.GetVolumeId(), first.GetVolumeId())
	}
	if fileExists(partial) {
		t.Fatal("the partial file of an interrupted write survived the restart")
	}
	_, err := restarted.CreateVolume(context.Background(), &csi.CreateVolumeRequest{Name: "pvc-1234",
		CapacityRange: &csi.CapacityRange{RequiredBytes: 2 << 20}, VolumeCapabilities: blockCapability()})
	expectCode(t, err, codes.AlreadyExists)
	if entries, _ := filepath.Glob(filepath.Join(root, volumesDir, "*")); len(entries) != 2 {
		t.Fatalf("volumes/ holds %v, want one image and its metadata", entries)
	}
}

func TestGroupSnapshotsCutEveryMemberAndDeleteThemTogether(t *testing.T) {
	c := &clock{time.Now()}
	d := newTestDriver(t, ModeBlock, t.TempDir(), c)
	var ids []string
	for _, name := range []string{"data", "log"} {
		ids = append(ids, create(t, d, &csi.CreateVolumeRequest{Name: name, CapacityRange: &csi.CapacityRange{RequiredBytes: 1 << 20},
			VolumeCapabilities: blockCapability(), Parameters: map[string]string{"snapshotDelaySeconds": "5"}}).GetVolumeId())
	}
	group, err := d.CreateVolumeGroupSnapshot(context.Background(), &csi.CreateVolumeGroupSnapshotRequest{Name: "group", SourceVolumeIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	members := group.GetGroupSnapshot().GetSnapshots()
	if len(members) != 2 || group.GetGroupSnapshot().GetReadyToUse() || members[0].GetGroupSnapshotId() != group.GetGroupSnapshot().GetGroupSnapshotId() {
		t.Fatalf("group snapshot: %v", group)
	}
	_, err = d.DeleteSnapshot(context.Background(), &csi.DeleteSnapshotRequest{SnapshotId: members[0].GetSnapshotId()})
	expectCode(t, err, codes.FailedPrecondition)
	c.at = c.at.Add(5 * time.Second)
	got, err := d.GetVolumeGroupSnapshot(context.Background(), &csi.GetVolumeGroupSnapshotRequest{GroupSnapshotId: group.GetGroupSnapshot().GetGroupSnapshotId()})
	if err != nil || !got.GetGroupSnapshot().GetReadyToUse() {
		t.Fatalf("group not ready after the delay: %v %v", got, err)
	}
	if _, err := d.DeleteVolumeGroupSnapshot(context.Background(), &csi.DeleteVolumeGroupSnapshotRequest{GroupSnapshotId: group.GetGroupSnapshot().GetGroupSnapshotId()}); err != nil {
		t.Fatal(err)
	}
	if listed, _ := d.ListSnapshots(context.Background(), &csi.ListSnapshotsRequest{}); len(listed.GetEntries()) != 0 {
		t.Fatalf("members survived their group: %v", listed.GetEntries())
	}
}

func TestExpansionGrowsTheImageAndAsksTheNodeToGrowTheFilesystem(t *testing.T) {
	d := newTestDriver(t, ModeBlock, t.TempDir(), &clock{time.Now()})
	volume := create(t, d, &csi.CreateVolumeRequest{Name: "grow", CapacityRange: &csi.CapacityRange{RequiredBytes: 16 << 20}, VolumeCapabilities: mountCapability("")})
	resp, err := d.ControllerExpandVolume(context.Background(), &csi.ControllerExpandVolumeRequest{VolumeId: volume.GetVolumeId(), CapacityRange: &csi.CapacityRange{RequiredBytes: 32 << 20}})
	if err != nil || resp.GetCapacityBytes() != 32<<20 || !resp.GetNodeExpansionRequired() {
		t.Fatalf("expand: %v %v", resp, err)
	}
	if info, _ := os.Stat(d.store.volumeData(volume.GetVolumeId())); info.Size() != 32<<20 {
		t.Fatalf("image is %d bytes after expansion", info.Size())
	}
	// Mounting it grows the filesystem that was made for 16 MiB.
	target := filepath.Join(t.TempDir(), "mnt")
	if _, err := d.store.publish(volume.GetVolumeId(), "", target, requestedAccess{accessType: accessMount, fsType: "ext4"}, false, false); err != nil {
		t.Fatal(err)
	}
	defer d.store.unpublish(volume.GetVolumeId(), target)
	var stats syscall.Statfs_t
	if err := syscall.Statfs(target, &stats); err != nil || int64(stats.Blocks)*stats.Bsize < 24<<20 {
		t.Fatalf("the filesystem has %d bytes after expansion to 32 MiB (%v)", int64(stats.Blocks)*stats.Bsize, err)
	}
}
