package main

import (
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// nodeError is a failure of a node operation: its message is what the node-* commands print, and
// its code is what the gRPC Node service answers (grpc reads it through GRPCStatus).
type nodeError struct {
	code    codes.Code
	message string
}

func (e *nodeError) Error() string              { return e.message }
func (e *nodeError) GRPCStatus() *status.Status { return status.New(e.code, e.message) }

func nodeFailure(code codes.Code, format string, args ...any) error {
	return &nodeError{code: code, message: fmt.Sprintf(format, args...)}
}
