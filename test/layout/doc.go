// Package layout holds the tests of the repository's shape: what may import
// what (the Lambda code never the CDK nor test support) and that every
// package says what it is. See docs/ARCHITECTURE.md.
package layout
