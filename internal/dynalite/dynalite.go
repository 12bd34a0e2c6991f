// Package dynalite starts dynalite (an implementation of DynamoDB on
// LevelDB, in memory; pinned in package.json and installed by npm ci) on a
// free loopback port for tests, and waits until it answers. The real SDK
// reaches it through AWS_ENDPOINT_URL_DYNAMODB or a client's BaseEndpoint.
package dynalite

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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// ErrNotInstalled reports a checkout without node_modules (run npm ci).
var ErrNotInstalled = errors.New("dynalite: not installed (run npm ci in the repository root)")

// Server is a running dynalite.
type Server struct {
	// URL is the endpoint, e.g. http://127.0.0.1:41234.
	URL  string
	cmd  *exec.Cmd
	once sync.Once
	done chan struct{}
}

// moduleRoot finds the directory holding go.mod above the working directory.
func moduleRoot() (string, error) {
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
			return "", fmt.Errorf("dynalite: no go.mod above the working directory")
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

// Start runs dynalite with the repository's pinned node on a free loopback
// port and returns once it answers a DynamoDB request; Close stops it.
func Start(ctx context.Context) (*Server, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	node := filepath.Join(root, "node_modules", ".bin", "node")
	cli := filepath.Join(root, "node_modules", "dynalite", "cli.js")
	for _, p := range []string{node, cli} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%w: %s missing", ErrNotInstalled, p)
		}
	}
	var lastErr error
	for range 3 { // another process may take the port between the probe and the listen
		port, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("dynalite: free port: %w", err)
		}
		s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}
		// Tables become ACTIVE within a millisecond (0 means the default 500 ms).
		s.cmd = exec.Command(node, cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
			"--createTableMs", "1", "--deleteTableMs", "1", "--updateTableMs", "1")
		var stderr strings.Builder
		s.cmd.Stderr = &stderr
		if err := s.cmd.Start(); err != nil {
			return nil, fmt.Errorf("dynalite: start: %w", err)
		}
		go func() { _ = s.cmd.Wait(); close(s.done) }()
		if err := s.wait(ctx); err != nil {
			s.Close()
			lastErr = fmt.Errorf("%w (stderr: %s)", err, strings.TrimSpace(stderr.String()))
			continue
		}
		return s, nil
	}
	return nil, lastErr
}

// wait polls until dynalite answers, it exits, or ctx or 30 s run out.
func (s *Server) wait(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
		if resp, err := client.Do(req); err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			// Another server may have taken the port between the probe and
			// dynalite's listen: only DynamoDB's own answer counts (to this
			// unsigned request, MissingAuthenticationTokenException).
			if strings.Contains(string(body), "com.amazon.coral.service#") || strings.Contains(string(body), "TableNames") {
				return nil
			}
			return fmt.Errorf("dynalite: %s answers %d, not as DynamoDB", s.URL, resp.StatusCode)
		}
		select {
		case <-s.done:
			return fmt.Errorf("dynalite: exited before answering")
		case <-ctx.Done():
			return fmt.Errorf("dynalite: not answering at %s: %w", s.URL, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Client returns a DynamoDB client of the real SDK for the server, with
// dummy credentials.
func (s *Server) Client() *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local", ""),
	})
}

// CreateTable creates a table and waits until it is active.
func (s *Server) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput) error {
	client := s.Client()
	if _, err := client.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("dynalite: create table: %w", err)
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 5*time.Millisecond, 50*time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, 10*time.Second); err != nil {
		return fmt.Errorf("dynalite: table %s not active: %w", aws.ToString(in.TableName), err)
	}
	return nil
}

// Close stops dynalite and waits for it to exit.
func (s *Server) Close() {
	s.once.Do(func() {
		if s.cmd.Process != nil {
			_ = s.cmd.Process.Kill()
		}
		<-s.done
	})
}
