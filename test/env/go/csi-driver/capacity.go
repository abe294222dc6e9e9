package main

import (
	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	gib = int64(1) << 30
	// defaultCapacity is what a request without a capacity range gets.
	defaultCapacity = gib
)

// capacityFor picks the size of a volume: at least what is required and at least minimum (the
// source's size for a restore or clone), whole GiB for zonal volumes, and never above the limit.
func capacityFor(capacityRange *csi.CapacityRange, minimum int64, zonal bool) (int64, error) {
	required, limit := capacityRange.GetRequiredBytes(), capacityRange.GetLimitBytes()
	if required < 0 || limit < 0 {
		return 0, status.Error(codes.InvalidArgument, "capacity_range bytes must not be negative")
	}
	if limit > 0 && required > limit {
		return 0, status.Errorf(codes.InvalidArgument, "capacity_range required_bytes %d exceeds limit_bytes %d", required, limit)
	}
	size := required
	if size == 0 {
		size = defaultCapacity
		if limit > 0 {
			size = min(size, limit)
		}
	}
	size = max(size, minimum)
	if zonal {
		size = (size + gib - 1) / gib * gib
	}
	if limit > 0 && size > limit {
		return 0, status.Errorf(codes.OutOfRange,
			"volume would be %d bytes (source size or whole GiB), above limit_bytes %d", size, limit)
	}
	return size, nil
}

// fits tells whether an existing volume of this size satisfies a repeated request.
func fits(size int64, capacityRange *csi.CapacityRange) bool {
	required, limit := capacityRange.GetRequiredBytes(), capacityRange.GetLimitBytes()
	return size >= required && (limit == 0 || size <= limit)
}
