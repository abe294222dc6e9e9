package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// NodeRecord is node/<volumeId>.json: where a volume is staged and published on this host, so
// that unpublishing the last user detaches its loop devices and node-cleanup finds every mount.
type NodeRecord struct {
	StagingPaths []string      `json:"stagingPaths,omitempty"`
	Targets      []Publication `json:"targets,omitempty"`
}

// Publication is one published target path.
type Publication struct {
	Path string `json:"path"`
	// SingleWriter is set for SINGLE_NODE_SINGLE_WRITER (ReadWriteOncePod): no second target may join.
	SingleWriter bool `json:"singleWriter,omitempty"`
}

func (r *NodeRecord) empty() bool { return len(r.StagingPaths) == 0 && len(r.Targets) == 0 }

func (r *NodeRecord) paths() []string {
	paths := slices.Clone(r.StagingPaths)
	for _, target := range r.Targets {
		paths = append(paths, target.Path)
	}
	return paths
}

func (s *Store) nodeRecordPath(id string) string {
	return filepath.Join(s.root, nodeDir, id+".json")
}

func (s *Store) nodeRecord(id string) (*NodeRecord, error) {
	record := &NodeRecord{}
	err := readJSON(s.nodeRecordPath(id), record)
	if errors.Is(err, os.ErrNotExist) {
		return record, nil
	}
	return record, err
}

func (s *Store) saveNodeRecord(id string, record *NodeRecord) error {
	if record.empty() {
		return removeCommitted(s.nodeRecordPath(id), "")
	}
	return writeJSON(s.nodeRecordPath(id), record)
}

// publications lists the paths where a volume is staged or published.
func (s *Store) publications(id string) ([]string, error) {
	record, err := s.nodeRecord(id)
	if err != nil {
		return nil, err
	}
	return record.paths(), nil
}

// withNodeLock runs fn holding an exclusive lock on the volume's node state, shared by the gRPC
// server and every node-* command (the node shim runs several at once).
func (s *Store) withNodeLock(id string, fn func(*NodeRecord) error) error {
	lock, err := os.OpenFile(filepath.Join(s.root, nodeDir, id+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	record, err := s.nodeRecord(id)
	if err != nil {
		return err
	}
	fnErr := fn(record)
	if err := s.saveNodeRecord(id, record); err != nil {
		return errors.Join(fnErr, err)
	}
	return fnErr
}
