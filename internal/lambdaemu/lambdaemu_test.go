package lambdaemu

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// moduleDir is the repository root, where go.mod pins the emulator.
func moduleDir(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func startFn(t *testing.T, emulator, bootstrap string, timeout time.Duration) *Function {
	t.Helper()
	f, err := Start(context.Background(), Config{
		Emulator: emulator, Bootstrap: bootstrap, Name: "fn",
		Env:     map[string]string{"GREETING": "hello"},
		Timeout: timeout, MemoryMB: 128, LogFormat: "JSON", LogLevel: "INFO",
		Region: "us-east-1", AccessKeyID: "AKIDTEST", SecretAccessKey: "secret",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func TestFunctionUnderEmulator(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	emulator, err := BuildEmulator(ctx, moduleDir(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	bootstrap, err := BuildFunction(ctx, moduleDir(t), "./internal/lambdaemu/testdata/fn", filepath.Join(dir, "fn"))
	if err != nil {
		t.Fatal(err)
	}
	// Two emulators at once: each has its own Runtime API port.
	a := startFn(t, emulator, bootstrap, 3*time.Second)
	b := startFn(t, emulator, bootstrap, 1*time.Second)

	tests := []struct {
		name      string
		fn        *Function
		payload   string
		wantBody  map[string]string
		wantErr   string
		wantTimed bool
	}{
		{name: "environment and deadline reach the function", fn: a, payload: `{"env":"GREETING"}`, wantBody: map[string]string{"env": "hello", "deadline": "3s"}},
		{name: "test process environment does not", fn: a, payload: `{"env":"GOPATH"}`, wantBody: map[string]string{"env": "", "deadline": "3s"}},
		{name: "the other emulator runs too", fn: b, payload: `{"env":"AWS_LAMBDA_FUNCTION_TIMEOUT"}`, wantBody: map[string]string{"env": "1", "deadline": "1s"}},
		{name: "function error", fn: a, payload: `{"fail":"boom: the batch is malformed"}`, wantErr: "boom: the batch is malformed"},
		{name: "timeout", fn: b, payload: `{"sleep":"3s"}`, wantTimed: true},
		{name: "after a timeout the function initializes again", fn: b, payload: `{"env":"GREETING"}`, wantBody: map[string]string{"env": "hello", "deadline": "1s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tt.fn.Invoke(ctx, []byte(tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			if res.TimedOut != tt.wantTimed {
				t.Fatalf("TimedOut = %v, want %v (body %s)", res.TimedOut, tt.wantTimed, res.Payload)
			}
			if tt.wantErr != "" {
				if res.Err == nil || res.Err.Message != tt.wantErr || !res.Failed() {
					t.Fatalf("Err = %v, want message %q", res.Err, tt.wantErr)
				}
				return
			}
			if tt.wantTimed {
				return
			}
			if res.Failed() {
				t.Fatalf("failed: %v %s", res.Err, res.Payload)
			}
			var got map[string]string
			if err := json.Unmarshal(res.Payload, &got); err != nil {
				t.Fatalf("body %s: %v", res.Payload, err)
			}
			for k, v := range tt.wantBody {
				if got[k] != v {
					t.Fatalf("%s = %q, want %q (body %s)", k, got[k], v, res.Payload)
				}
			}
		})
	}

	// The emulator writes its reports asynchronously: give them a moment.
	if inits := initDurations(a, 1); len(inits) != 1 || inits[0] <= 0 {
		t.Fatalf("a: INIT durations %v, want one", inits)
	}
	if inits := initDurations(b, 2); len(inits) != 2 {
		t.Fatalf("b: INIT durations %v, want two (the timeout reinitializes)", inits)
	}
	rss, err := a.PeakRSS()
	if err != nil || rss < 1<<20 || rss > 512<<20 {
		t.Fatalf("PeakRSS = %d, %v", rss, err)
	}
	if !strings.Contains(a.Logs(), "START RequestId:") {
		t.Fatalf("emulator logs lack START lines:\n%s", a.Logs())
	}

	// The Runtime API port found free is taken before the emulator binds
	// it: the emulator exits, and Start starts it on other ports.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	pick, calls := freeAddr, 0
	freeAddr = func() (string, error) {
		if calls++; calls == 2 { // the first attempt's Runtime API address
			return busy.Addr().String(), nil
		}
		return pick()
	}
	defer func() { freeAddr = pick }()
	c := startFn(t, emulator, bootstrap, time.Second)
	if res, err := c.Invoke(ctx, []byte(`{"env":"GREETING"}`)); err != nil || res.Failed() || calls != 4 {
		t.Fatalf("after a taken port: %v, %+v, %d addresses picked (want 4: two attempts)", err, res, calls)
	}
}

func TestStartRefusesFractionalTimeout(t *testing.T) {
	if _, err := Start(context.Background(), Config{Timeout: 1500 * time.Millisecond}); err == nil {
		t.Fatal("Start(1.5s timeout) = nil error")
	}
}

// initDurations returns f's INIT durations once it has reported want of them,
// or what it has after a few seconds.
func initDurations(f *Function, want int) []time.Duration {
	deadline := time.Now().Add(5 * time.Second)
	for {
		inits := f.InitDurations()
		if len(inits) >= want || time.Now().After(deadline) {
			return inits
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestResetRefusal pins the emulator answer that Invoke waits out after a
// failed invocation, and nothing else.
func TestResetRefusal(t *testing.T) {
	tests := []struct {
		body string
		want bool
	}{
		{`{"errorType":"Sandbox.Failure","errorMessage":"invoke failed. Error: ErrGateCanceled"}`, true},
		{`{"errorType":"Sandbox.Failure","errorMessage":"Runtime exited"}`, false},
		{`{"errorType":"Runtime.ExitError","errorMessage":"ErrGateCanceled"}`, false},
	}
	for _, tt := range tests {
		if got := resetRefusal(&Result{Payload: []byte(tt.body)}); got != tt.want {
			t.Errorf("resetRefusal(%s) = %v, want %v", tt.body, got, tt.want)
		}
	}
	if resetRefusal(nil) {
		t.Error("resetRefusal(nil) = true")
	}
}
