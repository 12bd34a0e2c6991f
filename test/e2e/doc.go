// Package e2e is the end-to-end suite: it compiles both Lambda functions for
// the local machine, runs each under the AWS Lambda Runtime Interface
// Emulator with the environment, timeout and memory the synthesized CDK app
// gives it, and drives the whole path — CloudWatch Logs subscription payload
// → CloudTrailSource → local EventBridge → the rule's pattern → the
// EventBridge envelope → SlackDestination → local Slack — through normal
// traffic, bad input and injected outages, proving nothing is lost.
//
// Run the scenarios (part of `go test ./...`; Node.js must be on PATH for the
// CDK synthesis, the project's pinned one is in node_modules/.bin):
//
//	PATH="$PWD/node_modules/.bin:$PATH" go test ./test/e2e
//
// Regenerate docs/RELIABILITY.md (the scenarios again, plus throughput on
// 10,000 recorded CloudTrail records, latency, INIT durations and peak
// memory; needs ../shared/fixtures):
//
//	PATH="$PWD/node_modules/.bin:$PATH" go test -tags e2ereport -run TestReliabilityReport -timeout 20m ./test/e2e
package e2e
