// Package dynalite starts dynalite (an implementation of DynamoDB on
// LevelDB, in memory; pinned in package.json and installed by npm ci) on a
// free loopback port for tests, and waits until it answers. The real SDK
// reaches it through AWS_ENDPOINT_URL_DYNAMODB or a client's BaseEndpoint.
package dynalite

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/activity-aware/ids/internal/npmserver"
)

// ErrNotInstalled reports a checkout without node_modules (run npm ci).
var ErrNotInstalled = npmserver.ErrNotInstalled

// Server is a running dynalite.
type Server struct {
	*npmserver.Server
}

// spec runs dynalite; tables become ACTIVE within a millisecond (0 means
// the default 500 ms).
var spec = npmserver.Spec{
	Name:  "dynalite",
	Files: []string{"dynalite/cli.js"},
	Args: func(modules string, port int) []string {
		return []string{filepath.Join(modules, "dynalite", "cli.js"), "--host", "127.0.0.1", "--port", strconv.Itoa(port),
			"--createTableMs", "1", "--deleteTableMs", "1", "--updateTableMs", "1"}
	},
	Target:      "DynamoDB_20120810.ListTables",
	ContentType: "application/x-amz-json-1.0",
	// Only DynamoDB's own answer counts (to this unsigned request,
	// MissingAuthenticationTokenException).
	Answers: func(body string) bool {
		return strings.Contains(body, "com.amazon.coral.service#") || strings.Contains(body, "TableNames")
	},
}

// Start runs dynalite with the repository's pinned node on a free loopback
// port and returns once it answers a DynamoDB request; Close stops it.
func Start(ctx context.Context) (*Server, error) {
	s, err := npmserver.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &Server{s}, nil
}

// Client returns a DynamoDB client of the real SDK for the server, with
// dummy credentials.
func (s *Server) Client() *dynamodb.Client { return NewClient(s.URL) }

// NewClient returns a DynamoDB client of the real SDK for the endpoint at
// url (a dynalite, or something in front of one), with dummy credentials.
func NewClient(url string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
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

// Shared is one dynalite for a test binary, started on first use: declare
// one per package, call Main from TestMain so it stops after the tests, and
// Table for a fresh table per test.
type Shared struct {
	once   sync.Once
	srv    *Server
	err    error
	tables atomic.Int64
}

// Main runs the package's tests (m.Run) and stops the server if one started.
func (s *Shared) Main(m interface{ Run() int }) int {
	code := m.Run()
	if s.srv != nil {
		s.srv.Close()
	}
	return code
}

// Table starts the server on first use (a failure fails tb: run npm ci),
// creates a table of schema under a name of its own ("state-N"), and returns
// the server and the table's name.
func (s *Shared) Table(tb testing.TB, schema func(name string) *dynamodb.CreateTableInput) (*Server, string) {
	tb.Helper()
	s.once.Do(func() { s.srv, s.err = Start(context.Background()) })
	if s.err != nil {
		tb.Fatal(s.err)
	}
	name := fmt.Sprintf("state-%d", s.tables.Add(1))
	if err := s.srv.CreateTable(context.Background(), schema(name)); err != nil {
		tb.Fatal(err)
	}
	return s.srv, name
}
