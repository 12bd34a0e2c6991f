// Command hello is the smallest Lambda handler, compiled by the gofunction
// tests to prove a function builds by import path from another module.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context) (string, error) { return "hello", nil })
}
