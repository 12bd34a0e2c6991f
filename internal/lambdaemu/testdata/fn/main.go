// Command fn is a Lambda function for the emulator runner's tests: it echoes
// its input, fails when asked, or sleeps past its timeout.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type request struct {
	Fail  string `json:"fail"`
	Sleep string `json:"sleep"`
	Env   string `json:"env"`
}

func handle(ctx context.Context, req request) (map[string]string, error) {
	if req.Fail != "" {
		return nil, errors.New(req.Fail)
	}
	if req.Sleep != "" {
		d, err := time.ParseDuration(req.Sleep)
		if err != nil {
			return nil, err
		}
		time.Sleep(d)
	}
	dl, _ := ctx.Deadline()
	return map[string]string{
		"env":      os.Getenv(req.Env),
		"deadline": time.Until(dl).Round(time.Second).String(),
	}, nil
}

func main() { lambda.Start(handle) }
