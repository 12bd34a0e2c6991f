// Package gofunction provides a construct that compiles a Go main package, by
// import path, into a provided.al2023 Lambda function with the defaults every
// function of this project gets: an explicit log group with retention, JSON
// logs, a small memory size and a role that may write only to that log group.
//
// The package is compiled with the local Go toolchain from the consuming
// app's module (ModuleDir), so the same construct works inside this repository
// and from any other Go CDK app that requires this module. When no Go
// toolchain is on PATH, the build falls back to a golang container image.
package gofunction

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Defaults applied to every function unless its Props say otherwise.
const (
	// DefaultMemorySize is the memory, in MiB, of a function: the Go handlers of
	// this project stream their input and need little.
	DefaultMemorySize = 128
	// DefaultTimeoutSeconds is the function timeout when Props.Timeout is nil.
	DefaultTimeoutSeconds = 30
	// DockerImage is the build image used only when no local Go toolchain is
	// available.
	DockerImage = "public.ecr.aws/docker/library/golang:1.26"
)

// Props configures a Go function. Only ImportPath is required.
type Props struct {
	// ImportPath of the main package to compile, e.g.
	// "github.com/activity-aware/ids/lambdas/slack-destination". Required.
	ImportPath *string
	// ModuleDir is the directory `go build` runs in: the root (or any
	// directory) of the consuming app's Go module, whose go.mod must resolve
	// ImportPath. Default: the app's working directory.
	ModuleDir *string
	// Description of the function.
	Description *string
	// Environment variables of the function.
	Environment *map[string]*string
	// Timeout of one invocation. Default 30 seconds.
	Timeout awscdk.Duration
	// MemorySize in MiB. Default 128.
	MemorySize *float64
	// Architecture of the function and of the compiled binary. Default ARM_64.
	Architecture awslambda.Architecture
	// ApplicationLogLevel filters the function's own JSON logs. Default INFO.
	ApplicationLogLevel awslambda.ApplicationLogLevel
	// LogGroupName names the function's log group. Default: a name
	// CloudFormation generates.
	LogGroupName *string
	// LogRetention of the function's log group. Default one year.
	LogRetention awslogs.RetentionDays
	// LogRemovalPolicy of the function's log group. Default RETAIN: an audit
	// trail outlives the stack that wrote it.
	LogRemovalPolicy awscdk.RemovalPolicy
	// ReservedConcurrentExecutions caps concurrent invocations. Default none.
	ReservedConcurrentExecutions *float64
	// OnFailure receives asynchronous invocations that failed every retry.
	OnFailure awslambda.IDestination
	// RetryAttempts of asynchronous invocations (0-2). Default Lambda's (2).
	RetryAttempts *float64
	// MaxEventAge of asynchronous invocations. Default Lambda's (6 hours).
	MaxEventAge awscdk.Duration
}

// WithDefaults returns a copy of p (nil: empty Props) in which ImportPath,
// Timeout and Description that p leaves unset take their values from
// defaults: how a construct lets its users override its function.
func WithDefaults(p *Props, defaults Props) Props {
	var out Props
	if p != nil {
		out = *p
	}
	if out.ImportPath == nil {
		out.ImportPath = defaults.ImportPath
	}
	if out.Timeout == nil {
		out.Timeout = defaults.Timeout
	}
	if out.Description == nil {
		out.Description = defaults.Description
	}
	return out
}

// MergeEnvironment returns the environment of a construct's function: own,
// the variables the construct configures its function with, plus those of
// user (a construct's Props.Function.Environment). The names user sets that
// own sets too are returned sorted as conflicts, for the construct to refuse
// at synthesis: a silent override would run the function misconfigured.
func MergeEnvironment(user *map[string]*string, own map[string]string) (env *map[string]*string, conflicts []string) {
	out := make(map[string]*string, len(own))
	if user != nil {
		for k, v := range *user {
			if _, ok := own[k]; ok {
				conflicts = append(conflicts, k)
			}
			out[k] = v
		}
	}
	for k, v := range own {
		out[k] = jsii.String(v)
	}
	slices.Sort(conflicts)
	return &out, conflicts
}

// Function is a compiled Go Lambda function with its log group and role.
type Function interface {
	constructs.Construct
	// Function is the Lambda function.
	Function() awslambda.IFunction
	// LogGroup is the function's log group.
	LogGroup() awslogs.ILogGroup
	// Role is the function's execution role.
	Role() awsiam.IRole
}

type function struct {
	constructs.Construct
	fn       awslambda.Function
	logGroup awslogs.LogGroup
	role     awsiam.Role
}

func (f *function) Function() awslambda.IFunction { return f.fn }
func (f *function) LogGroup() awslogs.ILogGroup   { return f.logGroup }
func (f *function) Role() awsiam.IRole            { return f.role }

// New compiles props.ImportPath and defines the function. It panics, as CDK
// constructors do, when ImportPath is missing or ModuleDir cannot be resolved.
func New(scope constructs.Construct, id *string, props *Props) Function {
	if props == nil || props.ImportPath == nil || *props.ImportPath == "" {
		panic("gofunction: Props.ImportPath is required")
	}
	p := *props
	if p.ModuleDir == nil {
		p.ModuleDir = jsii.String(".")
	}
	if p.Timeout == nil {
		p.Timeout = awscdk.Duration_Seconds(jsii.Number(DefaultTimeoutSeconds))
	}
	if p.MemorySize == nil {
		p.MemorySize = jsii.Number(DefaultMemorySize)
	}
	if p.Architecture == nil {
		p.Architecture = awslambda.Architecture_ARM_64()
	}
	if p.ApplicationLogLevel == "" {
		p.ApplicationLogLevel = awslambda.ApplicationLogLevel_INFO
	}
	if p.LogRetention == "" {
		p.LogRetention = awslogs.RetentionDays_ONE_YEAR
	}
	if p.LogRemovalPolicy == "" {
		p.LogRemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	moduleDir, err := filepath.Abs(*p.ModuleDir)
	if err != nil {
		panic(fmt.Errorf("gofunction: module dir %q: %w", *p.ModuleDir, err))
	}

	c := constructs.NewConstruct(scope, id)
	logGroup := awslogs.NewLogGroup(c, jsii.String("LogGroup"), &awslogs.LogGroupProps{
		LogGroupName:  p.LogGroupName,
		Retention:     p.LogRetention,
		RemovalPolicy: p.LogRemovalPolicy,
	})
	// An own role instead of AWSLambdaBasicExecutionRole: that managed policy
	// lets the function write to every log group of the account.
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Execution role of " + *p.ImportPath),
	})
	logGroup.GrantWrite(role)

	build := NewBuild(*p.ImportPath, moduleDir, GOARCH(p.Architecture))
	fn := awslambda.NewFunction(c, jsii.String("Function"), &awslambda.FunctionProps{
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Handler:      jsii.String("bootstrap"),
		Architecture: p.Architecture,
		Code: awslambda.Code_FromAsset(jsii.String(moduleDir), &awss3assets.AssetOptions{
			AssetHashType: awscdk.AssetHashType_OUTPUT,
			Bundling:      build.BundlingOptions(),
		}),
		Description:                  p.Description,
		Environment:                  p.Environment,
		Timeout:                      p.Timeout,
		MemorySize:                   p.MemorySize,
		Role:                         role,
		LogGroup:                     logGroup,
		LoggingFormat:                awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2:        p.ApplicationLogLevel,
		SystemLogLevelV2:             awslambda.SystemLogLevel_INFO,
		ReservedConcurrentExecutions: p.ReservedConcurrentExecutions,
		OnFailure:                    p.OnFailure,
		RetryAttempts:                p.RetryAttempts,
		MaxEventAge:                  p.MaxEventAge,
	})
	// The role's policy must exist before the function is invoked, or the
	// first invocations cannot write their logs.
	fn.Node().AddDependency(role)
	return &function{Construct: c, fn: fn, logGroup: logGroup, role: role}
}

// GOARCH returns the Go architecture that runs on a Lambda architecture.
func GOARCH(arch awslambda.Architecture) string {
	if arch != nil && *arch.Name() == *awslambda.Architecture_X86_64().Name() {
		return "amd64"
	}
	return "arm64"
}

// Build compiles one main package into a Lambda custom-runtime `bootstrap`.
// It implements awscdk.ILocalBundling (with a pointer receiver, as jsii
// requires) and describes the equivalent container build for the fallback.
type Build struct {
	// ImportPath of the main package.
	ImportPath string
	// Dir is the directory `go build` runs in.
	Dir string
	// GOARCH of the binary: arm64 or amd64.
	GOARCH string
}

// NewBuild returns the build of importPath from the module in dir.
func NewBuild(importPath, dir, goarch string) *Build {
	return &Build{ImportPath: importPath, Dir: dir, GOARCH: goarch}
}

var _ awscdk.ILocalBundling = (*Build)(nil)

// Env returns the environment variables of a Lambda build: static, Linux,
// for the function's architecture.
func (b *Build) Env() map[string]string {
	return map[string]string{"GOOS": "linux", "GOARCH": b.GOARCH, "CGO_ENABLED": "0"}
}

// Args returns the `go` arguments that write the binary to out: reproducible
// (no paths, no VCS stamp), stripped, and without the RPC shim the
// provided.al2023 runtime never uses.
func (b *Build) Args(out string) []string {
	return []string{
		"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-tags", "lambda.norpc",
		"-o", out, b.ImportPath,
	}
}

// TryBundle compiles the binary into outputDir with the local Go toolchain.
// It reports false when no `go` is on PATH, so CDK falls back to the
// container build. A failed build panics: jsii turns the panic into the
// synthesis error the user sees, with the compiler's output.
func (b *Build) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return jsii.Bool(false)
	}
	cmd := exec.Command(goBin, b.Args(filepath.Join(*outputDir, "bootstrap"))...)
	cmd.Dir = b.Dir
	cmd.Env = os.Environ()
	for k, v := range b.Env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		panic(fmt.Errorf("gofunction: go build %s in %s: %w\n%s",
			b.ImportPath, b.Dir, err, strings.TrimSpace(string(out))))
	}
	return jsii.Bool(true)
}

// BundlingOptions returns the asset bundling of this build: local first, the
// golang image (with the module mounted at /asset-input) as the fallback.
func (b *Build) BundlingOptions() *awscdk.BundlingOptions {
	env := map[string]*string{
		"GOCACHE": jsii.String("/tmp/go-cache"),
		"GOPATH":  jsii.String("/tmp/go"),
	}
	for k, v := range b.Env() {
		env[k] = jsii.String(v)
	}
	return &awscdk.BundlingOptions{
		Image:       awscdk.DockerImage_FromRegistry(jsii.String(DockerImage)),
		Command:     jsii.Strings(append([]string{"go"}, b.Args("/asset-output/bootstrap")...)...),
		Environment: &env,
		Local:       b,
	}
}
