package main

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// objectID turns a CO-chosen name into an id that is safe as a file name and short enough for
// every CO: a readable prefix plus a hash of the whole name, so the same name always maps to the
// same id (which makes CreateVolume and CreateSnapshot idempotent) and distinct names never collide.
func objectID(name string) string {
	sum := sha256.Sum256([]byte(name))
	var prefix strings.Builder
	for _, r := range strings.ToLower(name) {
		if prefix.Len() >= 48 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			prefix.WriteRune(r)
		default:
			prefix.WriteRune('-')
		}
	}
	return strings.Trim(prefix.String(), "-") + "-" + hex.EncodeToString(sum[:8])
}

// validID refuses ids that could escape the state folder; such ids cannot name anything we made.
func validID(id string) bool {
	return id != "" && !strings.ContainsAny(id, "/\\\x00") && !strings.HasPrefix(id, ".")
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
