package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Mode is how a driver instance keeps volume contents.
type Mode string

const (
	// ModeBlock keeps each volume as a raw image file, Filesystem volumes formatted inside it.
	ModeBlock Mode = "block"
	// ModeDirectory keeps each volume as a directory (Filesystem only, like NFS-style drivers).
	ModeDirectory Mode = "directory"
)

func parseMode(value string) (Mode, error) {
	switch Mode(value) {
	case ModeBlock, ModeDirectory:
		return Mode(value), nil
	}
	return "", fmt.Errorf("--mode %q is not block or directory", value)
}

// Store is the on-disk state below --root; everything the driver knows is read from it, so a
// restarted server continues where the previous one stopped.
type Store struct {
	root string
	mode Mode
}

// VolumeRecord is volumes/<id>.json.
type VolumeRecord struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	CapacityBytes int64             `json:"capacityBytes"`
	Parameters    map[string]string `json:"parameters,omitempty"`
	Zone          string            `json:"zone,omitempty"`
	Source        *ContentSource    `json:"source,omitempty"`
	FsType        string            `json:"fsType,omitempty"`
	AccessType    string            `json:"accessType"`
	CreatedAt     time.Time         `json:"createdAt"`
}

// ContentSource names what a volume was created from.
type ContentSource struct {
	SnapshotID string `json:"snapshotId,omitempty"`
	VolumeID   string `json:"volumeId,omitempty"`
}

// SnapshotRecord is snapshots/<id>.json.
type SnapshotRecord struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	SourceVolumeID string            `json:"sourceVolumeId"`
	SizeBytes      int64             `json:"sizeBytes"`
	Parameters     map[string]string `json:"parameters,omitempty"`
	Zone           string            `json:"zone,omitempty"`
	FsType         string            `json:"fsType,omitempty"`
	AccessType     string            `json:"accessType"`
	CreatedAt      time.Time         `json:"createdAt"`
	ReadyAt        time.Time         `json:"readyAt"`
	GroupID        string            `json:"groupId,omitempty"`
}

// GroupRecord is groups/<id>.json: a group snapshot and its members.
type GroupRecord struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	SnapshotIDs []string  `json:"snapshotIds"`
	CreatedAt   time.Time `json:"createdAt"`
}

const (
	volumesDir   = "volumes"
	snapshotsDir = "snapshots"
	groupsDir    = "groups"
	nodeDir      = "node"
	// Files being written carry this prefix until they are renamed into place.
	partialPrefix = ".partial-"
)

func openStore(root string, mode Mode) (*Store, error) {
	if !filepath.IsAbs(root) {
		return nil, fmt.Errorf("--root %q must be an absolute path", root)
	}
	for _, dir := range []string{volumesDir, snapshotsDir, groupsDir, nodeDir} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			return nil, err
		}
	}
	return &Store{root: root, mode: mode}, nil
}

// discardPartials removes what an interrupted write left: partial files, and contents whose
// metadata was never committed (the metadata file is written last and removed first).
func (s *Store) discardPartials() error {
	for _, dir := range []string{volumesDir, snapshotsDir, groupsDir} {
		entries, err := os.ReadDir(filepath.Join(s.root, dir))
		if err != nil {
			return err
		}
		for _, entry := range entries {
			name := entry.Name()
			id := strings.TrimSuffix(name, ".img")
			committed := fileExists(filepath.Join(s.root, dir, id+".json"))
			if strings.HasPrefix(name, partialPrefix) || (!strings.HasSuffix(name, ".json") && !committed) {
				if err := os.RemoveAll(filepath.Join(s.root, dir, name)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *Store) volumeData(id string) string   { return s.dataPath(volumesDir, id) }
func (s *Store) snapshotData(id string) string { return s.dataPath(snapshotsDir, id) }

func (s *Store) dataPath(dir, id string) string {
	if s.mode == ModeDirectory {
		return filepath.Join(s.root, dir, id)
	}
	return filepath.Join(s.root, dir, id+".img")
}

// partialPath is where contents are built before they are renamed to final.
func partialPath(final string) string {
	return filepath.Join(filepath.Dir(final), partialPrefix+filepath.Base(final))
}

func (s *Store) volume(id string) (*VolumeRecord, error) {
	record := &VolumeRecord{}
	return record, readJSON(filepath.Join(s.root, volumesDir, id+".json"), record)
}

func (s *Store) snapshot(id string) (*SnapshotRecord, error) {
	record := &SnapshotRecord{}
	return record, readJSON(filepath.Join(s.root, snapshotsDir, id+".json"), record)
}

func (s *Store) group(id string) (*GroupRecord, error) {
	record := &GroupRecord{}
	return record, readJSON(filepath.Join(s.root, groupsDir, id+".json"), record)
}

func (s *Store) saveVolume(record *VolumeRecord) error {
	return writeJSON(filepath.Join(s.root, volumesDir, record.ID+".json"), record)
}

func (s *Store) saveSnapshot(record *SnapshotRecord) error {
	return writeJSON(filepath.Join(s.root, snapshotsDir, record.ID+".json"), record)
}

func (s *Store) saveGroup(record *GroupRecord) error {
	return writeJSON(filepath.Join(s.root, groupsDir, record.ID+".json"), record)
}

// removeVolume drops the metadata first, so a crash in between leaves only garbage contents
// that discardPartials removes.
func (s *Store) removeVolume(id string) error {
	return removeCommitted(filepath.Join(s.root, volumesDir, id+".json"), s.volumeData(id))
}

func (s *Store) removeSnapshot(id string) error {
	return removeCommitted(filepath.Join(s.root, snapshotsDir, id+".json"), s.snapshotData(id))
}

func (s *Store) removeGroup(id string) error {
	return removeCommitted(filepath.Join(s.root, groupsDir, id+".json"), "")
}

func removeCommitted(metadata, data string) error {
	if err := os.Remove(metadata); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if data == "" {
		return nil
	}
	return os.RemoveAll(data)
}

// snapshots lists every committed snapshot, oldest first (ties by id) so pages are stable.
func (s *Store) snapshots() ([]*SnapshotRecord, error) {
	ids, err := s.committedIDs(snapshotsDir)
	if err != nil {
		return nil, err
	}
	records := make([]*SnapshotRecord, 0, len(ids))
	for _, id := range ids {
		record, err := s.snapshot(id)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted while we listed
		}
		if err != nil {
			return nil, err
		}
		records = append(records, record)
	}
	sort.Slice(records, func(i, j int) bool {
		if !records[i].CreatedAt.Equal(records[j].CreatedAt) {
			return records[i].CreatedAt.Before(records[j].CreatedAt)
		}
		return records[i].ID < records[j].ID
	})
	return records, nil
}

func (s *Store) committedIDs(dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, dir))
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, entry := range entries {
		name := entry.Name()
		if strings.HasSuffix(name, ".json") && !strings.HasPrefix(name, partialPrefix) {
			ids = append(ids, strings.TrimSuffix(name, ".json"))
		}
	}
	return ids, nil
}

func readJSON(path string, into any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s is not valid metadata (%v); delete it with its contents", path, err)
	}
	return nil
}

// writeJSON replaces path atomically: a reader sees the old or the new file, never half of one.
func writeJSON(path string, value any) error {
	data, err := json.MarshalIndent(value, "", "  ")
	if err != nil {
		return err
	}
	partial := partialPath(path)
	file, err := os.Create(partial)
	if err != nil {
		return err
	}
	if _, err := file.Write(append(data, '\n')); err != nil {
		file.Close()
		return err
	}
	if err := file.Sync(); err != nil {
		file.Close()
		return err
	}
	if err := file.Close(); err != nil {
		return err
	}
	return os.Rename(partial, path)
}

func fileExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
