// Package sampleevents holds example CloudWatch Logs subscription payloads
// ({"awslogs":{"data": base64(gzip(batch))}}) for replaying through the
// pipeline or invoking the CloudTrail source Lambda. Each payload's readable
// batch is in decoded/; the test proves they agree and regenerates the
// payloads with -update.
package sampleevents
