// Package kinesalite starts kinesalite (an implementation of Kinesis Data
// Streams in memory; pinned in package.json and installed by npm ci) on a
// free loopback port for tests, and waits until it answers. The real SDK
// reaches it through AWS_ENDPOINT_URL_KINESIS or a client's BaseEndpoint.
package kinesalite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/activity-aware/ids/internal/npmserver"
)

// ErrNotInstalled reports a checkout without node_modules (run npm ci).
var ErrNotInstalled = npmserver.ErrNotInstalled

// Server is a running kinesalite.
type Server struct {
	*npmserver.Server
}

// script listens on loopback only (kinesalite's cli binds every
// interface); streams become ACTIVE within a millisecond.
const script = `require(process.argv[1])({createStreamMs: 1, deleteStreamMs: 1, updateStreamMs: 1, shardLimit: 100})` +
	`.listen(+process.argv[2], '127.0.0.1')`

var spec = npmserver.Spec{
	Name:  "kinesalite",
	Files: []string{"kinesalite/index.js"},
	Args: func(modules string, port int) []string {
		return []string{"-e", script, modules + "/kinesalite", fmt.Sprint(port)}
	},
	Target:      "Kinesis_20131202.ListStreams",
	ContentType: "application/x-amz-json-1.1",
	// Only Kinesis's own answer counts (to this unsigned request, a
	// MissingAuthenticationToken error).
	Answers: func(body string) bool {
		return strings.Contains(body, "MissingAuthenticationToken") || strings.Contains(body, "StreamNames")
	},
}

// Start runs kinesalite with the repository's pinned node on a free
// loopback port and returns once it answers a Kinesis request; Close stops
// it.
func Start(ctx context.Context) (*Server, error) {
	s, err := npmserver.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &Server{s}, nil
}

// Client returns a Kinesis client of the real SDK for the server, with
// dummy credentials.
func (s *Server) Client() *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local", ""),
	})
}

// CreateStream creates a stream of shards and waits until it is active.
func (s *Server) CreateStream(ctx context.Context, name string, shards int32) error {
	client := s.Client()
	if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		return fmt.Errorf("kinesalite: create stream: %w", err)
	}
	w := kinesis.NewStreamExistsWaiter(client, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 5*time.Millisecond, 50*time.Millisecond
	})
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, 10*time.Second); err != nil {
		return fmt.Errorf("kinesalite: stream %s not active: %w", name, err)
	}
	return nil
}
