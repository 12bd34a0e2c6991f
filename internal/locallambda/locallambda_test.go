package locallambda

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/activity-aware/ids/internal/lambdaemu"
)

// echo answers its payload, or fails when the payload says so, as the
// emulator reports a function error.
type echo struct{ got [][]byte }

func (e *echo) Invoke(_ context.Context, payload []byte) (*lambdaemu.Result, error) {
	e.got = append(e.got, payload)
	if string(payload) == `"fail"` {
		return &lambdaemu.Result{Payload: []byte(`{"errorMessage":"no","errorType":"errorString"}`), Err: &lambdaemu.FunctionError{Message: "no", Type: "errorString"}}, nil
	}
	return &lambdaemu.Result{Payload: payload}, nil
}

func TestInvokeThroughTheSDK(t *testing.T) {
	fn := &echo{}
	s := New(map[string]Function{"SlackDestination": fn})
	defer s.Close()
	c := lambda.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.URL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	ctx := context.Background()
	for _, name := range []string{"SlackDestination", "arn:aws:lambda:us-east-1:111122223333:function:SlackDestination", "arn:aws:lambda:us-east-1:111122223333:function:SlackDestination:$LATEST", "SlackDestination:live"} {
		out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{"a":1}`)})
		if err != nil || out.FunctionError != nil || string(out.Payload) != `{"a":1}` || out.StatusCode != 200 {
			t.Fatalf("Invoke(%s) = %+v, %v", name, out, err)
		}
	}
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("SlackDestination"), Payload: []byte(`"fail"`)})
	if err != nil || aws.ToString(out.FunctionError) != "Unhandled" {
		t.Fatalf("failing Invoke = %+v, %v", out, err)
	}
	var nf *types.ResourceNotFoundException
	if _, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("Other"), Payload: []byte(`{}`)}); !errors.As(err, &nf) {
		t.Fatalf("unknown function: %v", err)
	}
	if s.Invocations("SlackDestination") != 5 || len(fn.got) != 5 {
		t.Fatalf("invocations = %d", s.Invocations("SlackDestination"))
	}
}
