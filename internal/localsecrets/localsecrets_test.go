package localsecrets_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/activity-aware/ids/internal/localsecrets"
)

const (
	arn     = "arn:aws:secretsmanager:us-east-1:123456789012:secret:aaids/slack-webhook-Ab12Cd"
	webhook = "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX"
)

func client(srv *localsecrets.Server) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(srv.AWSConfig(), func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
}

func TestGetSecretValue(t *testing.T) {
	tests := []struct {
		name      string
		prepare   func(*localsecrets.Server) string // returns the value expected
		in        secretsmanager.GetSecretValueInput
		wantCode  string
		wantStage string
	}{
		{"by ARN", func(*localsecrets.Server) string { return webhook }, secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)}, "", localsecrets.StageCurrent},
		{"by name", func(*localsecrets.Server) string { return webhook }, secretsmanager.GetSecretValueInput{SecretId: aws.String("aaids/slack-webhook")}, "", localsecrets.StageCurrent},
		{"rotated", func(s *localsecrets.Server) string {
			s.SetValue(`{"url":"https://hooks.slack.com/services/T1/B1/new"}`)
			return `{"url":"https://hooks.slack.com/services/T1/B1/new"}`
		},
			secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)}, "", localsecrets.StageCurrent},
		{"previous after rotation", func(s *localsecrets.Server) string {
			s.SetValue("https://hooks.slack.com/services/T1/B1/new")
			return webhook
		},
			secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String(localsecrets.StagePrevious)}, "", localsecrets.StagePrevious},
		{"no previous version", nil, secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionStage: aws.String(localsecrets.StagePrevious)}, "ResourceNotFoundException", ""},
		{"unknown version id", nil, secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: aws.String("00000000-0000-4000-8000-000000000000")}, "ResourceNotFoundException", ""},
		{"another secret", nil, secretsmanager.GetSecretValueInput{SecretId: aws.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-password-Zz99Yy")}, "AccessDeniedException", ""},
		{"deleted", func(s *localsecrets.Server) string { s.Delete(); return "" }, secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)}, "ResourceNotFoundException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := localsecrets.New(arn, webhook)
			defer srv.Close()
			want := ""
			if tt.prepare != nil {
				want = tt.prepare(srv)
			}
			out, err := client(srv).GetSecretValue(context.Background(), &tt.in)
			if tt.wantCode != "" {
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode {
					t.Fatalf("error = %v, want %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.SecretString) != want || aws.ToString(out.ARN) != arn || aws.ToString(out.Name) != "aaids/slack-webhook" {
				t.Errorf("got %q %q %q", aws.ToString(out.SecretString), aws.ToString(out.ARN), aws.ToString(out.Name))
			}
			if len(out.VersionStages) != 1 || out.VersionStages[0] != tt.wantStage || aws.ToString(out.VersionId) == "" || out.CreatedDate == nil {
				t.Errorf("version %q stages %v created %v", aws.ToString(out.VersionId), out.VersionStages, out.CreatedDate)
			}
			if srv.Calls() != 1 {
				t.Errorf("Calls() = %d, want 1", srv.Calls())
			}
		})
	}
}

func TestRotationChangesVersion(t *testing.T) {
	srv := localsecrets.New(arn, webhook)
	defer srv.Close()
	c := client(srv)
	first, err := c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	v2 := srv.SetValue("https://hooks.slack.com/services/T2/B2/rotated")
	second, err := c.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(second.VersionId) != v2 || v2 == aws.ToString(first.VersionId) {
		t.Errorf("versions %q then %q, SetValue said %q", aws.ToString(first.VersionId), aws.ToString(second.VersionId), v2)
	}
}

func TestFaults(t *testing.T) {
	srv := localsecrets.New(arn, webhook)
	defer srv.Close()
	c := client(srv)
	get := func(ctx context.Context) error {
		_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
		return err
	}

	srv.FailInternal(1)
	var apiErr smithy.APIError
	if err := get(context.Background()); !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InternalServiceError" {
		t.Errorf("500: got %v", err)
	}
	srv.Throttle(1)
	if err := get(context.Background()); !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ThrottlingException" {
		t.Errorf("throttle: got %v", err)
	}
	srv.Hang(1)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	if err := get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hang: got %v", err)
	}
	if err := get(context.Background()); err != nil {
		t.Errorf("after the faults: %v", err)
	}
	if srv.Requests() != 4 || srv.Calls() != 1 || srv.Faulted() != 3 {
		t.Errorf("requests %d, calls %d, faulted %d; want 4, 1, 3", srv.Requests(), srv.Calls(), srv.Faulted())
	}
}
