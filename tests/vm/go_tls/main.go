// SPDX-License-Identifier: MIT
// The Go crypto/tls case of the kernel matrix (tests/vm/check.sh): an HTTPS
// server on loopback with a certificate made here, and three HTTPS requests to
// it from the same program, all through crypto/tls.(*Conn).Read and Write,
// which sonde hooks at their entry and at each RET (Go's register ABI). It
// waits before the first request so the agent can hook it after the exec.
// usage: go_tls PORT
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"time"
)

func certificate() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go_tls PORT")
		os.Exit(2)
	}
	cert, err := certificate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_tls:", err)
		os.Exit(1)
	}
	addr := "127.0.0.1:" + os.Args[1]
	ln, err := tls.Listen("tcp", addr, &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_tls:", err)
		os.Exit(1)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello over Go TLS\n")
	})
	go http.Serve(ln, nil)
	time.Sleep(time.Second)

	// A TLS configuration of its own: HTTP/1.1, as the checks expect.
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
	status := 0
	for n := 1; n <= 3; n++ {
		resp, err := client.Get(fmt.Sprintf("https://%s/go/%d", addr, n))
		if err != nil {
			fmt.Fprintln(os.Stderr, "go_tls:", err)
			status = 1
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			fmt.Fprintln(os.Stderr, "go_tls: status", resp.StatusCode)
			status = 1
		}
	}
	os.Exit(status)
}
