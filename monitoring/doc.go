// Package monitoring groups what the functions contribute to watching the
// pipeline at run time: metrics/ writes the CloudWatch embedded-metric lines
// the alarms read, and heartbeat/ is the canary activity that proves the
// whole path still delivers. The alarms, topic, schedule and dashboard are
// the CDK construct constructs/monitoring.
package monitoring
