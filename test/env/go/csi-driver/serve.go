package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

const zoneKey = "topology.kubernetes.io/zone"

// Driver implements the CSI services over a Store.
type Driver struct {
	csi.UnimplementedIdentityServer
	csi.UnimplementedControllerServer
	csi.UnimplementedNodeServer
	csi.UnimplementedGroupControllerServer

	name   string
	nodeID string
	zone   string
	zones  []string
	store  *Store
	now    func() time.Time
	// Controller calls are serialized: they are rare and each must see the state the previous one left.
	mu sync.Mutex
}

// DriverConfig is what `serve` is started with.
type DriverConfig struct {
	Name   string
	NodeID string
	Zone   string
	Zones  []string
	Root   string
	Mode   Mode
}

func newDriver(config DriverConfig, now func() time.Time) (*Driver, error) {
	if config.Name == "" {
		return nil, errors.New("--driver-name is required")
	}
	if config.NodeID == "" {
		return nil, errors.New("--node-id is required")
	}
	store, err := openStore(config.Root, config.Mode)
	if err != nil {
		return nil, err
	}
	if err := store.discardPartials(); err != nil {
		return nil, err
	}
	return &Driver{
		name: config.Name, nodeID: config.NodeID, zone: config.Zone, zones: config.Zones, store: store, now: now,
	}, nil
}

func serveCommand(args []string, _ io.Writer) error {
	flags := newFlags("serve")
	endpoint := flags.String("endpoint", "", "unix:///absolute/path.sock")
	config := DriverConfig{}
	flags.StringVar(&config.Name, "driver-name", "", "CSI driver name")
	flags.StringVar(&config.Root, "root", "", "state folder")
	mode := flags.String("mode", string(ModeBlock), "block or directory")
	flags.StringVar(&config.NodeID, "node-id", "", "node id reported by NodeGetInfo")
	flags.StringVar(&config.Zone, "zone", "", "zone reported by NodeGetInfo")
	zones := flags.String("zones", "", "comma-separated zones volumes may be placed in")
	if err := flags.Parse(args); err != nil {
		return err
	}
	var err error
	if config.Mode, err = parseMode(*mode); err != nil {
		return err
	}
	if *zones != "" {
		config.Zones = strings.Split(*zones, ",")
	}
	socket, found := strings.CutPrefix(*endpoint, "unix://")
	if !found || !strings.HasPrefix(socket, "/") {
		return fmt.Errorf("--endpoint %q must be unix:///absolute/path.sock", *endpoint)
	}
	driver, err := newDriver(config, time.Now)
	if err != nil {
		return err
	}
	if err := os.Remove(socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	listener, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	server := driver.grpcServer()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		server.GracefulStop()
	}()
	log.Printf("%s serving %s (mode %s, root %s)", config.Name, *endpoint, config.Mode, config.Root)
	return server.Serve(listener)
}

func (d *Driver) grpcServer() *grpc.Server {
	server := grpc.NewServer(grpc.UnaryInterceptor(logCall))
	csi.RegisterIdentityServer(server, d)
	csi.RegisterControllerServer(server, d)
	csi.RegisterNodeServer(server, d)
	csi.RegisterGroupControllerServer(server, d)
	return server
}

// logCall writes one line per RPC: method, the ids the request names, and the outcome.
func logCall(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	started := time.Now()
	resp, err := handler(ctx, req)
	method := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
	outcome := "OK"
	if err != nil {
		outcome = status.Code(err).String() + ": " + oneLine(err)
	}
	log.Printf("%s%s -> %s (%s)", method, requestIDs(req), outcome, time.Since(started).Round(time.Millisecond))
	return resp, err
}

func requestIDs(req any) string {
	var parts []string
	value := reflect.ValueOf(req)
	for _, getter := range []string{"GetName", "GetVolumeId", "GetSourceVolumeId", "GetSnapshotId", "GetGroupSnapshotId"} {
		method := value.MethodByName(getter)
		if !method.IsValid() {
			continue
		}
		if id, ok := method.Call(nil)[0].Interface().(string); ok && id != "" {
			parts = append(parts, strings.TrimPrefix(getter, "Get")+"="+id)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " " + strings.Join(parts, " ")
}
