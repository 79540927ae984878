// SPDX-License-Identifier: MIT

// h2peer: the Go side of sonde's HTTP/2 integration tests. Go 1.19 and
// Debian's grpc (no protoc: the test service is described by hand and its
// messages are wrappers.StringValue).
//
//	h2peer grpc-server PORT      health service and sonde.test.Echo
//	h2peer grpc-client ADDR      the calls of tests/integration/test_http2.py
//	h2peer grpc-idle ADDR        one call, then one call per line on stdin
//	h2peer h2c-server PORT       plain HTTP/2 over cleartext (prior knowledge and Upgrade)
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/golang/protobuf/ptypes/wrappers"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Say answers its argument, or fails with the status "status:N" asks for.
func say(ctx context.Context, in *wrappers.StringValue) (*wrappers.StringValue, error) {
	if strings.HasPrefix(in.Value, "status:") {
		code, _ := strconv.Atoi(strings.TrimPrefix(in.Value, "status:"))
		return nil, status.Error(codes.Code(code), "asked for")
	}
	return &wrappers.StringValue{Value: "said " + in.Value}, nil
}

func sayHandler(srv interface{}, ctx context.Context, dec func(interface{}) error,
	_ grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(wrappers.StringValue)
	if err := dec(in); err != nil {
		return nil, err
	}
	return say(ctx, in)
}

// Count streams N messages for the argument N, then ends with OK.
func countHandler(srv interface{}, stream grpc.ServerStream) error {
	in := new(wrappers.StringValue)
	if err := stream.RecvMsg(in); err != nil {
		return err
	}
	n, _ := strconv.Atoi(in.Value)
	for i := 1; i <= n; i++ {
		if err := stream.SendMsg(&wrappers.StringValue{Value: strconv.Itoa(i)}); err != nil {
			return err
		}
	}
	return nil
}

var echoService = grpc.ServiceDesc{
	ServiceName: "sonde.test.Echo",
	HandlerType: (*interface{})(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Say", Handler: sayHandler}},
	Streams: []grpc.StreamDesc{{StreamName: "Count", Handler: countHandler,
		ServerStreams: true}},
}

func grpcServer(port string) {
	lis, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fail(err)
	}
	s := grpc.NewServer()
	h := health.NewServer()
	h.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(s, h)
	s.RegisterService(&echoService, struct{}{})
	fmt.Println("ready")
	fail(s.Serve(lis))
}

func dial(addr string) *grpc.ClientConn {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, addr, grpc.WithInsecure(), grpc.WithBlock())
	if err != nil {
		fail(err)
	}
	return conn
}

func callSay(conn *grpc.ClientConn, arg string) codes.Code {
	out := new(wrappers.StringValue)
	err := conn.Invoke(context.Background(), "/sonde.test.Echo/Say",
		&wrappers.StringValue{Value: arg}, out)
	return status.Code(err)
}

// The calls every language's client makes, in this order, one connection.
func grpcClient(addr string) {
	conn := dial(addr)
	defer conn.Close()
	ctx := context.Background()
	hc := healthpb.NewHealthClient(conn)
	_, err := hc.Check(ctx, &healthpb.HealthCheckRequest{})
	report("Check", status.Code(err))
	_, err = hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"})
	report("Check nope", status.Code(err))
	report("Say", callSay(conn, "hello"))
	report("Say status:13", callSay(conn, "status:13"))
	stream, err := conn.NewStream(ctx, &echoService.Streams[0], "/sonde.test.Echo/Count")
	if err != nil {
		fail(err)
	}
	if err := stream.SendMsg(&wrappers.StringValue{Value: "3"}); err != nil {
		fail(err)
	}
	stream.CloseSend()
	got := 0
	for {
		m := new(wrappers.StringValue)
		if err = stream.RecvMsg(m); err != nil {
			break
		}
		got++
	}
	if err == io.EOF {
		err = nil
	}
	report(fmt.Sprintf("Count %d", got), status.Code(err))
	err = conn.Invoke(ctx, "/sonde.test.Echo/Nope", &wrappers.StringValue{},
		new(wrappers.StringValue))
	report("Nope", status.Code(err))
	// Large: 20 KB of metadata (a header block in HEADERS and CONTINUATION
	// frames, written in one syscall larger than sonde's per-event copy) and
	// a 300 KB message each way.
	big := metadata.AppendToOutgoingContext(ctx, "x-big", strings.Repeat("m", 20000))
	out := new(wrappers.StringValue)
	err = conn.Invoke(big, "/sonde.test.Echo/Say",
		&wrappers.StringValue{Value: strings.Repeat("b", 300000)}, out)
	report(fmt.Sprintf("Say big %d", len(out.Value)), status.Code(err))
}

// A connection that is open before sonde starts: one call now, then one per
// line read ("say ARG" or "check").
func grpcIdle(addr string) {
	conn := dial(addr)
	defer conn.Close()
	report("Say first", callSay(conn, "first"))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 2 && f[0] == "say" {
			report("Say "+f[1], callSay(conn, f[1]))
		} else if len(f) == 1 && f[0] == "check" {
			_, err := healthpb.NewHealthClient(conn).Check(context.Background(),
				&healthpb.HealthCheckRequest{})
			report("Check", status.Code(err))
		}
	}
}

func h2cServer(port string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello over "+r.Proto+"\n")
	})
	mux.HandleFunc("/", http.NotFound)
	srv := &http.Server{Addr: "127.0.0.1:" + port, Handler: h2c.NewHandler(mux, &http2.Server{})}
	lis, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		fail(err)
	}
	fmt.Println("ready")
	fail(srv.Serve(lis))
}

func report(what string, code codes.Code) {
	fmt.Printf("%s: %s\n", what, code)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "h2peer:", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: h2peer grpc-server PORT | grpc-client ADDR | grpc-idle ADDR | h2c-server PORT")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "grpc-server":
		grpcServer(os.Args[2])
	case "grpc-client":
		grpcClient(os.Args[2])
	case "grpc-idle":
		grpcIdle(os.Args[2])
	case "h2c-server":
		h2cServer(os.Args[2])
	default:
		fmt.Fprintln(os.Stderr, "h2peer: unknown mode", os.Args[1])
		os.Exit(2)
	}
}
