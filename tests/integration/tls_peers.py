# SPDX-License-Identifier: MIT
"""TLS helpers for the integration tests: the spans sonde prints for a command
it runs, parse errors, and Go TLS peers. (The certificate and nginx over TLS
are in harness.py: make_cert, Nginx(tls=True).)"""

import json
import os
import subprocess
import tempfile

from harness import SONDE, Failure


def trace_command(*command, args=(), timeout=120):
    """`sonde trace -o json --stats [args] -- COMMAND`: (spans, completed process)."""
    r = subprocess.run([SONDE, "trace", "--output", "json", "--no-summary", "--stats", *args,
                        "--", *command], capture_output=True, text=True, timeout=timeout)
    spans = []
    for line in r.stdout.splitlines():
        try:
            spans.append(json.loads(line))
        except ValueError:
            raise Failure(f"sonde printed a line that is not JSON: {line!r}")
    return spans, r


def parse_errors(stderr):
    """The parse error count of sonde's closing line."""
    for line in stderr.splitlines():
        if line.startswith("sonde: ") and "parse errors" in line:
            return int(line.rsplit(";", 1)[1].split()[0])
    raise Failure(f"no closing counters line in:\n{stderr}")


GO = "/usr/lib/go-1.19/bin/go"

GO_PROGRAM = r"""
package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// server PORT CERT KEY | client PORT N
func main() {
	if os.Args[1] == "server" {
		srv := &http.Server{Addr: "127.0.0.1:" + os.Args[2],
			// HTTP/1.1 only: an empty TLSNextProto turns off h2
			TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n, _ := io.Copy(io.Discard, r.Body)
				body := fmt.Sprintf("go %s %d", r.URL.Path, n)
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				if r.URL.Path == "/missing" {
					w.WriteHeader(404)
				}
				io.WriteString(w, body)
			})}
		panic(srv.ListenAndServeTLS(os.Args[3], os.Args[4]))
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}
	c := &http.Client{Transport: tr}
	n, _ := strconv.Atoi(os.Args[3])
	base := "https://127.0.0.1:" + os.Args[2]
	for i := 0; i < n; i++ {
		var r *http.Response
		var err error
		if i == n-1 {
			r, err = c.Post(base+"/post", "text/plain", strings.NewReader(strings.Repeat("p", 3000)))
		} else {
			r, err = c.Get(fmt.Sprintf("%s/g%d", base, i))
		}
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
}
"""

_go_built = {}


def go_binaries():
    """The Go 1.19 program above, built once: {'symtab': path, 'stripped': path};
    'stripped' has neither symbol table nor DWARF (-ldflags=-s -w)."""
    if not _go_built:
        d = tempfile.mkdtemp(prefix="sonde-go-")
        with open(os.path.join(d, "main.go"), "w") as f:
            f.write(GO_PROGRAM)
        env = dict(os.environ, GO111MODULE="off", GOPATH=os.path.join(d, "gopath"),
                   GOCACHE=os.path.join(d, "cache"), HOME=d, CGO_ENABLED="0")
        for name, flags in (("symtab", []), ("stripped", ["-ldflags=-s -w"])):
            out = os.path.join(d, f"gotls-{name}")
            r = subprocess.run([GO, "build", *flags, "-o", out, "main.go"], cwd=d, env=env,
                               capture_output=True, text=True, timeout=300)
            if r.returncode:
                raise Failure(f"go build failed: {r.stderr}")
            _go_built[name] = out
    return _go_built
