// Package npmserver starts a local implementation of an AWS service from
// npm (dynalite, kinesalite: pinned in package.json, installed by npm ci)
// with the repository's pinned node on a free loopback port, and waits
// until it answers as that service. Tests reach it with the real SDK
// through AWS_ENDPOINT_URL_<SERVICE> or a client's BaseEndpoint.
package npmserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrNotInstalled reports a checkout without node_modules (run npm ci).
var ErrNotInstalled = errors.New("npmserver: not installed (run npm ci in the repository root)")

// Spec says how to run and recognize one server.
type Spec struct {
	// Name of the server, for errors.
	Name string
	// Files are the paths under node_modules the server needs, checked
	// before it is started.
	Files []string
	// Args are node's arguments for a server on port; paths are relative
	// to node_modules.
	Args func(modules string, port int) []string
	// Target and ContentType make the unsigned probe request, e.g.
	// "DynamoDB_20120810.ListTables" and "application/x-amz-json-1.0".
	Target, ContentType string
	// Answers reports whether a response body to the probe comes from the
	// service (and not from another server that took the port).
	Answers func(body string) bool
}

// Server is a running server.
type Server struct {
	// URL is the endpoint, e.g. http://127.0.0.1:41234.
	URL  string
	cmd  *exec.Cmd
	once sync.Once
	done chan struct{}
}

// ModuleRoot finds the directory holding go.mod above the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("npmserver: no go.mod above the working directory")
		}
		dir = parent
	}
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start runs the server of spec with the repository's pinned node on a free
// loopback port and returns once it answers the probe; Close stops it.
func Start(ctx context.Context, spec Spec) (*Server, error) {
	root, err := ModuleRoot()
	if err != nil {
		return nil, err
	}
	modules := filepath.Join(root, "node_modules")
	node := filepath.Join(modules, ".bin", "node")
	for _, p := range append([]string{node}, spec.Files...) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(modules, p)
		}
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%w: %s: %s missing", ErrNotInstalled, spec.Name, p)
		}
	}
	var lastErr error
	for range 3 { // another process may take the port between the probe and the listen
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("%s: free port: %w", spec.Name, err)
		}
		s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}
		s.cmd = exec.Command(node, spec.Args(modules, port)...)
		var stderr strings.Builder
		s.cmd.Stderr = &stderr
		if err := s.cmd.Start(); err != nil {
			return nil, fmt.Errorf("%s: start: %w", spec.Name, err)
		}
		go func() { _ = s.cmd.Wait(); close(s.done) }()
		if err := s.wait(ctx, spec); err != nil {
			s.Close()
			lastErr = fmt.Errorf("%w (stderr: %s)", err, strings.TrimSpace(stderr.String()))
			continue
		}
		return s, nil
	}
	return nil, lastErr
}

// wait polls until the server answers, it exits, or ctx or 30 s run out.
func (s *Server) wait(ctx context.Context, spec Spec) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, strings.NewReader("{}"))
		req.Header.Set("Content-Type", spec.ContentType)
		req.Header.Set("X-Amz-Target", spec.Target)
		if resp, err := client.Do(req); err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if spec.Answers(string(body)) {
				return nil
			}
			return fmt.Errorf("%s: %s answers %d, not as the service", spec.Name, s.URL, resp.StatusCode)
		}
		select {
		case <-s.done:
			return fmt.Errorf("%s: exited before answering", spec.Name)
		case <-ctx.Done():
			return fmt.Errorf("%s: not answering at %s: %w", spec.Name, s.URL, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close stops the server and waits for it to exit.
func (s *Server) Close() {
	s.once.Do(func() {
		if s.cmd.Process != nil {
			_ = s.cmd.Process.Kill()
		}
		<-s.done
	})
}
