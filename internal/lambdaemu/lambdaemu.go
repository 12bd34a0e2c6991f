// Package lambdaemu runs compiled Lambda functions under the AWS Lambda
// Runtime Interface Emulator (aws-lambda-rie, pinned as a tool in go.mod) and
// invokes them over its HTTP invoke API, for the end-to-end suite.
//
// Each Function is one emulator process on its own free loopback ports: the
// invoke API (--runtime-interface-emulator-address) and the internal Runtime
// API the function polls (--runtime-api-address, which otherwise defaults to
// the fixed 127.0.0.1:9001, so two emulators would collide). The emulator
// hands its whole environment to the function, so a Function starts it with
// a clean environment: the function's variables, the Lambda variables the
// service would set, dummy credentials, and nothing from the test process.
//
// The emulator answers every invocation with HTTP 200. A function error is
// the body {"errorMessage": ..., "errorType": ...}; a timeout is the body
// "Task timed out after N.00 seconds". Invoke turns both into a Result.
//
// The emulator's REPORT line always says "Max Memory Used" equals the memory
// size and its "Init Duration" only times the hand-off to the init phase, so
// a Function reads the INIT duration from the emulator's "INIT REPORT" log
// and the peak memory from the runtime process's VmHWM in /proc.
package lambdaemu

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// EmulatorPackage is the import path of the emulator's command.
const EmulatorPackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// InvokePath is the emulator's invoke endpoint.
const InvokePath = "/2015-03-31/functions/function/invocations"

// Sentinel errors, for errors.Is.
var (
	// ErrStart reports an emulator that did not come up.
	ErrStart = errors.New("lambdaemu: emulator did not start")
	// ErrInvoke reports an invocation the emulator did not run (not a
	// function error: those are in Result).
	ErrInvoke = errors.New("lambdaemu: invoke failed")
)

// BuildEmulator compiles the emulator into dir and returns its path. It runs
// in moduleDir, whose go.mod pins the emulator's version.
func BuildEmulator(ctx context.Context, moduleDir, dir string) (string, error) {
	out := filepath.Join(dir, "aws-lambda-rie")
	if err := goBuild(ctx, moduleDir, out, nil, EmulatorPackage); err != nil {
		return "", err
	}
	return out, nil
}

// BuildFunction compiles the Lambda main package pkg (an import path or a
// ./relative path in moduleDir) for the local machine into dir/bootstrap, as
// the custom runtime expects, and returns its path.
func BuildFunction(ctx context.Context, moduleDir, pkg, dir string) (string, error) {
	out := filepath.Join(dir, "bootstrap")
	if err := goBuild(ctx, moduleDir, out, []string{"-tags", "lambda.norpc", "-trimpath"}, pkg); err != nil {
		return "", err
	}
	return out, nil
}

func goBuild(ctx context.Context, moduleDir, out string, flags []string, pkg string) error {
	args := append([]string{"build", "-o", out}, flags...)
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("lambdaemu: go build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// Config describes one function to run.
type Config struct {
	// Emulator is the path of the aws-lambda-rie binary.
	Emulator string
	// Bootstrap is the path of the function's compiled bootstrap.
	Bootstrap string
	// Name is the function name (AWS_LAMBDA_FUNCTION_NAME).
	Name string
	// Env is the function's environment, as the template gives it.
	Env map[string]string
	// Timeout is the function timeout, in whole seconds as Lambda's.
	Timeout time.Duration
	// MemoryMB is the function's memory size.
	MemoryMB int
	// LogFormat and LogLevel are the function's logging configuration
	// (AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL), e.g. "JSON", "INFO".
	LogFormat, LogLevel string
	// Region and the dummy credentials the function's SDK uses.
	Region, AccessKeyID, SecretAccessKey string
	// Log, when set, also receives everything the emulator and the function
	// write.
	Log io.Writer
}

// Function is a running emulator with its function.
type Function struct {
	cfg     Config
	cmd     *exec.Cmd
	invoke  string
	client  *http.Client
	done    chan struct{}
	waitErr error
	// resetting is set when the last invocation failed or timed out: the
	// emulator may then reset its sandbox asynchronously, and an
	// invocation that arrives before the reset finished is refused.
	resetting bool
	// timedOut is set when the last invocation timed out: the reset then
	// ends the runtime, which the next invocation starts again.
	timedOut bool

	mu   sync.Mutex
	logs bytes.Buffer
}

// Start starts the emulator for cfg and waits until its invoke API listens.
// The function itself initializes on the first invocation, as in Lambda.
//
// The emulator's two ports are ones found free a moment before it starts;
// when another process took one in that moment (tests start servers on free
// ports all the time), the emulator exits, and Start tries other ports, up
// to startAttempts times.
func Start(ctx context.Context, cfg Config) (*Function, error) {
	if cfg.Timeout < time.Second || cfg.Timeout%time.Second != 0 {
		return nil, fmt.Errorf("%w: timeout %s is not a whole number of seconds", ErrStart, cfg.Timeout)
	}
	for attempt := 1; ; attempt++ {
		f, err := start(ctx, cfg)
		if err == nil || attempt == startAttempts || !errors.Is(err, errPortTaken) {
			return f, err
		}
	}
}

// startAttempts bounds Start's tries with other ports.
const startAttempts = 3

// errPortTaken reports an emulator that exited because a port it was given
// was taken by then.
var errPortTaken = errors.New("a port was taken before the emulator bound it")

// start is one attempt of Start.
func start(ctx context.Context, cfg Config) (*Function, error) {
	invokeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	runtimeAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	f := &Function{
		cfg:    cfg,
		invoke: "http://" + invokeAddr + InvokePath,
		// No client timeout: the function's own timeout bounds an
		// invocation, and the caller's context bounds the wait.
		client: &http.Client{},
		done:   make(chan struct{}),
	}
	cmd := exec.Command(cfg.Emulator,
		"--runtime-api-address", runtimeAddr,
		"--runtime-interface-emulator-address", invokeAddr,
		cfg.Bootstrap)
	cmd.Dir = filepath.Dir(cfg.Bootstrap)
	cmd.Env = f.environ()
	// Its own process group, so Close ends the emulator and the runtime
	// together and nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out io.Writer = (*logWriter)(f)
	if cfg.Log != nil {
		out = io.MultiWriter(out, cfg.Log)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStart, err)
	}
	f.cmd = cmd
	go func() {
		f.waitErr = cmd.Wait()
		close(f.done)
	}()
	if err := f.waitListening(ctx, invokeAddr, runtimeAddr); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// environ is the emulator's (and so the function's) whole environment.
func (f *Function) environ() []string {
	c := f.cfg
	home := filepath.Dir(c.Bootstrap)
	env := map[string]string{
		"PATH": "/usr/local/bin:/usr/bin:/bin",
		"HOME": home,
		"TZ":   ":UTC",
		// Keep the SDK off the test machine's shared files and instance
		// metadata: the dummy static credentials are all it gets.
		"AWS_CONFIG_FILE":             filepath.Join(home, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_REGION":                  c.Region,
		"AWS_DEFAULT_REGION":          c.Region,
		"AWS_ACCESS_KEY_ID":           c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       c.SecretAccessKey,
		// What Lambda sets for the function from its configuration.
		"AWS_LAMBDA_FUNCTION_NAME":        c.Name,
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(int(c.Timeout / time.Second)),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(c.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + c.Name,
		"AWS_LAMBDA_LOG_FORMAT":           c.LogFormat,
		"AWS_LAMBDA_LOG_LEVEL":            c.LogLevel,
		"LOG_LEVEL":                       "info",
	}
	for k, v := range c.Env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// freeAddr returns a loopback address with a port that was free a moment ago
// (a variable, for tests). The port is below the ephemeral range (from 32768
// on Linux, 49152 on macOS and Windows), whose ports the kernel hands to
// every socket that asks for any (a server on port 0, and each outgoing
// connection), so that none of those can take it before the emulator binds
// it; and above the emulator's fixed Runtime API address (127.0.0.1:9001).
var freeAddr = func() (string, error) {
	for range 100 {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(lowPorts+rand.IntN(ephemeralPorts-lowPorts)))
		if l, err := net.Listen("tcp", addr); err == nil {
			_ = l.Close()
			return addr, nil
		}
	}
	return "", fmt.Errorf("%w: no free port from %d to %d", ErrStart, lowPorts, ephemeralPorts-1)
}

// The ports freeAddr picks from: [lowPorts, ephemeralPorts).
const lowPorts, ephemeralPorts = 20000, 32768

// waitListening waits until the emulator serves both its addresses: it
// listens on invokeAddr, and its Runtime API on runtimeAddr answers a ping.
// The emulator binds the two concurrently, so one listening says nothing of
// the other; and a port another process took still accepts connections
// (that process's), so only the Runtime API's own answer tells it was ours.
func (f *Function) waitListening(ctx context.Context, invokeAddr, runtimeAddr string) error {
	deadline := time.Now().Add(readyTimeout)
	ping := &http.Client{Timeout: 200 * time.Millisecond}
	invoking := false
	for time.Now().Before(deadline) {
		select {
		case <-f.done:
			logs := f.Logs()
			if strings.Contains(logs, "address already in use") {
				return fmt.Errorf("%w: %w (%v):\n%s", ErrStart, errPortTaken, f.waitErr, logs)
			}
			return fmt.Errorf("%w: it exited (%v):\n%s", ErrStart, f.waitErr, logs)
		case <-ctx.Done():
			return fmt.Errorf("%w: %v", ErrStart, ctx.Err())
		default:
		}
		if !invoking {
			if c, err := net.DialTimeout("tcp", invokeAddr, 100*time.Millisecond); err == nil {
				_ = c.Close()
				invoking = true
			}
		}
		if invoking && pong(ctx, ping, runtimeAddr) {
			return nil
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return fmt.Errorf("%w: %v", ErrStart, err)
		}
	}
	return fmt.Errorf("%w: %s and %s not served within %s:\n%s", ErrStart, invokeAddr, runtimeAddr, readyTimeout, f.Logs())
}

// pong reports whether the Runtime API at addr answers its ping.
func pong(ctx context.Context, c *http.Client, addr string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/2018-06-01/ping", nil)
	if err != nil {
		return false
	}
	res, err := c.Do(req)
	if err != nil {
		return false
	}
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64))
	_ = res.Body.Close()
	return res.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "pong"
}

// FunctionError is the error a function returned, as the emulator reports it.
type FunctionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

// Error implements error.
func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Result is the outcome of one invocation.
type Result struct {
	// Payload is the body the emulator answered.
	Payload []byte
	// Err is the function's error, nil when it succeeded.
	Err *FunctionError
	// TimedOut is set when the function ran past its timeout.
	TimedOut bool
	// Duration is the invocation's wall time as the caller saw it.
	Duration time.Duration
}

// Failed reports whether the invocation failed (an error or a timeout), so
// Lambda would retry it and finally send it to the on-failure destination.
func (r *Result) Failed() bool { return r.Err != nil || r.TimedOut }

var timedOut = regexp.MustCompile(`^Task timed out after [0-9.]+ seconds$`)

// readyTimeout bounds each wait for the emulator to be ready: to listen
// after Start, to finish a reset after a failed invocation.
const readyTimeout = 10 * time.Second

// Invoke invokes the function with payload and waits for its answer. The
// emulator runs one invocation at a time. After a failed or timed-out
// invocation it waits until the emulator finished resetting the sandbox, as
// Lambda itself would before the next invocation: after a timeout until the
// runtime has ended, then, while the emulator refuses the invocation as
// still resetting, it sends it again.
func (f *Function) Invoke(ctx context.Context, payload []byte) (*Result, error) {
	deadline := time.Now().Add(readyTimeout)
	if f.timedOut {
		if err := f.awaitReset(ctx, deadline); err != nil {
			return nil, err
		}
	}
	for {
		res, err := f.invokeOnce(ctx, payload)
		if err != nil && f.resetting && resetRefusal(res) && time.Now().Before(deadline) {
			// The runtime is gone but the emulator has not cleared the
			// sandbox yet: the invocation never reached the function.
			if err := sleep(ctx, 20*time.Millisecond); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrInvoke, f.cfg.Name, err)
			}
			continue
		}
		f.resetting = res != nil && res.Failed()
		f.timedOut = res != nil && res.TimedOut
		return res, err
	}
}

// sandboxFailure is the emulator's answer to an invocation that arrived
// while it was still resetting the sandbox after a failed one.
var sandboxFailure = regexp.MustCompile(`"errorType":\s*"Sandbox\.Failure".*ErrGateCanceled`)

// resetRefusal reports whether res is the emulator refusing an invocation
// because the sandbox was still resetting.
func resetRefusal(res *Result) bool {
	return res != nil && sandboxFailure.Match(res.Payload)
}

// awaitReset waits until the emulator has ended the runtime of the
// timed-out invocation (it starts a new one on the next invocation), the
// emulator exits, ctx ends or deadline passes.
func (f *Function) awaitReset(ctx context.Context, deadline time.Time) error {
	for {
		if _, err := childOf(f.cmd.Process.Pid); err != nil {
			return nil
		}
		select {
		case <-f.done:
			return fmt.Errorf("%w: %s: the emulator exited (%v):\n%s", ErrInvoke, f.cfg.Name, f.waitErr, f.Logs())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s: the emulator did not reset its sandbox within %s:\n%s", ErrInvoke, f.cfg.Name, readyTimeout, f.Logs())
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInvoke, f.cfg.Name, err)
		}
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// invokeOnce sends one invocation to the emulator.
func (f *Function) invokeOnce(ctx context.Context, payload []byte) (*Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.invoke, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvoke, err)
	}
	start := time.Now()
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvoke, f.cfg.Name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: reading the answer: %v", ErrInvoke, f.cfg.Name, err)
	}
	res := &Result{Payload: body, Duration: time.Since(start)}
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("%w: %s: emulator answered %d: %s", ErrInvoke, f.cfg.Name, resp.StatusCode, body)
	}
	if timedOut.Match(body) {
		res.TimedOut = true
		return res, nil
	}
	var fe FunctionError
	if bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) && json.Unmarshal(body, &fe) == nil && fe.Type != "" && fe.Message != "" {
		res.Err = &fe
	}
	return res, nil
}

// Settle waits until the emulator reported the end of every invocation it
// started ("REPORT RequestId" for each "START RequestId"): the emulator
// copies the function's output asynchronously, so what an invocation wrote
// (its log and metric lines) is only certain to be in Logs after it. It
// gives up after a few seconds or when ctx ends.
func (f *Function) Settle(ctx context.Context) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		logs := f.Logs()
		if strings.Count(logs, "REPORT RequestId:") >= strings.Count(logs, "START RequestId:") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s: invocations not reported within %s", ErrInvoke, f.cfg.Name, readyTimeout)
		}
		if err := sleep(ctx, 5*time.Millisecond); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInvoke, f.cfg.Name, err)
		}
	}
}

// Logs returns everything the emulator and the function wrote so far.
func (f *Function) Logs() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.logs.String()
}

type logWriter Function

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.logs.Write(p)
}

var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// InitDurations returns the INIT durations the emulator reported, one per
// initialization of the function (a timeout makes it initialize again).
func (f *Function) InitDurations() []time.Duration {
	var out []time.Duration
	for _, m := range initReport.FindAllStringSubmatch(f.Logs(), -1) {
		ms, err := strconv.ParseFloat(m[1], 64)
		if err == nil {
			out = append(out, time.Duration(ms*float64(time.Millisecond)))
		}
	}
	return out
}

// LogRecord is one JSON log line of the function.
type LogRecord map[string]any

// FunctionLogs returns the function's JSON log lines (AWS_LAMBDA_LOG_FORMAT
// JSON), in order; other lines are skipped.
func (f *Function) FunctionLogs() []LogRecord {
	var out []LogRecord
	sc := bufio.NewScanner(strings.NewReader(f.Logs()))
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var r LogRecord
		if json.Unmarshal(line, &r) == nil {
			out = append(out, r)
		}
	}
	return out
}

// PeakRSS returns the peak resident set size (VmHWM) of the function's
// runtime process, the emulator's child. It is only known while the process
// runs.
func (f *Function) PeakRSS() (int64, error) {
	pid, err := childOf(f.cmd.Process.Pid)
	if err != nil {
		return 0, err
	}
	return vmHWM(pid)
}

// EmulatorPeakRSS returns the peak resident set size of the emulator itself.
func (f *Function) EmulatorPeakRSS() (int64, error) { return vmHWM(f.cmd.Process.Pid) }

// childOf returns the pid of the first process whose parent is ppid.
func childOf(ppid int) (int, error) {
	children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", ppid, ppid))
	if err == nil {
		if fields := strings.Fields(string(children)); len(fields) > 0 {
			return strconv.Atoi(fields[0])
		}
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("lambdaemu: list processes: %w", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The fields after the parenthesized command name: state, ppid, ...
		i := bytes.LastIndexByte(stat, ')')
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(ppid) {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("lambdaemu: no runtime process under emulator %d (not initialized yet?)", ppid)
}

// vmHWM reads a process's peak resident set size from /proc.
func vmHWM(pid int) (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("lambdaemu: read status of %d: %w", pid, err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("lambdaemu: parse VmHWM %q: %w", rest, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("lambdaemu: process %d has no VmHWM", pid)
}

// Close stops the emulator and its function (SIGTERM, then SIGKILL after two
// seconds) and waits for the emulator to exit.
func (f *Function) Close() {
	if f.cmd == nil || f.cmd.Process == nil {
		return
	}
	pid := f.cmd.Process.Pid
	// The emulator starts the runtime in a process group of its own and ends
	// it on SIGTERM; note it first, to end it too if the emulator cannot.
	runtimePID, runtimeErr := childOf(pid)
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(2 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-f.done
	}
	if runtimeErr == nil {
		_ = syscall.Kill(-runtimePID, syscall.SIGKILL)
	}
}

// StartPackage builds the emulator and the Lambda main package pkg (a
// ./relative path in moduleDir, e.g. "./lambdas/event-source") into tb's
// temporary directory and starts the function with cfg, whose Emulator and
// Bootstrap it fills in; the function stops when tb ends. A failure fails tb.
func StartPackage(tb testing.TB, moduleDir, pkg string, cfg Config) *Function {
	tb.Helper()
	ctx := context.Background()
	tmp := tb.TempDir()
	var err error
	if cfg.Emulator, err = BuildEmulator(ctx, moduleDir, tmp); err != nil {
		tb.Fatal(err)
	}
	if cfg.Bootstrap, err = BuildFunction(ctx, moduleDir, pkg, filepath.Join(tmp, "fn")); err != nil {
		tb.Fatal(err)
	}
	f, err := Start(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(f.Close)
	return f
}
