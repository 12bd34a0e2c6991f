package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/correlation"
	"github.com/activity-aware/ids/destinations/email"
	"github.com/activity-aware/ids/destinations/pagerduty"
	"github.com/activity-aware/ids/destinations/slack"
	"github.com/activity-aware/ids/destinations/teams"
	"github.com/activity-aware/ids/destinations/webhook"
	"github.com/activity-aware/ids/internal/cfntemplate"
	"github.com/activity-aware/ids/internal/dynalite"
	"github.com/activity-aware/ids/internal/eventpattern"
	"github.com/activity-aware/ids/internal/lambdaemu"
	"github.com/activity-aware/ids/internal/localaws"
	"github.com/activity-aware/ids/internal/localeventbridge"
	"github.com/activity-aware/ids/internal/localpagerduty"
	"github.com/activity-aware/ids/internal/localsecrets"
	"github.com/activity-aware/ids/internal/localslack"
	"github.com/activity-aware/ids/internal/localsns"
	"github.com/activity-aware/ids/internal/localteams"
	"github.com/activity-aware/ids/internal/localwebhook"
	"github.com/activity-aware/ids/internal/sharedfixtures"
	"github.com/activity-aware/ids/internal/subscriptiontest"
	"github.com/activity-aware/ids/monitoring/heartbeat"
)

// The local values the template's references resolve to.
const (
	localAccount   = "111122223333"
	localRegion    = localaws.Region
	localBusName   = "activity-aware-ids-e2e-bus"
	localBusARN    = "arn:aws:events:" + localRegion + ":" + localAccount + ":event-bus/" + localBusName
	localSecretARN = "arn:aws:secretsmanager:" + localRegion + ":" + localAccount + ":secret:activity-aware-ids-e2e-webhook-AbCdEf"
	logGroup       = "CloudTrail/DefaultLogGroup"
	// e2eRoutingKey is the PagerDuty integration key of the local secret.
	e2eRoutingKey = "R0123456789abcdef0123456789ABCDE"
	// e2eBotToken and e2eChannel are the Slack app mode's bot and channel.
	e2eBotToken    = "xoxb-2222222222-3333333333-e2eB0tT0kenValue"
	e2eChannel     = "C0E2E000001"
	localTableName = "activity-aware-ids-e2e-state"
)

// route is one rule feeding a destination: its pattern (as deployed with the
// parameters' defaults) and its target, the function or a pacing queue.
type route struct {
	rule, target string
	pattern      *eventpattern.Pattern
}

// routeOf returns the target the destination's rules hand the event to; ok
// is false when no rule matches it. The rules of one destination are
// disjoint (priority and the rest), so more than one match is an error.
func (dd *destDeployment) routeOf(ev []byte) (target string, ok bool, err error) {
	for _, r := range dd.routes {
		m, err := r.pattern.Match(ev)
		if err != nil {
			return "", false, fmt.Errorf("match rule %s: %w", r.rule, err)
		}
		if m {
			if ok {
				return "", false, fmt.Errorf("two rules (to %s and %s) match one event", target, r.target)
			}
			target, ok = r.target, true
		}
	}
	return target, ok, nil
}

// deployment is what TestMain prepares once: the emulator, the compiled
// functions and their configuration from the synthesized template. dest,
// destBin, rule and pattern are the Slack destination's; dests holds every
// destination by name.
type deployment struct {
	repo      string
	emulator  string
	sourceBin string
	destBin   string
	source    *cfntemplate.Function
	dest      *cfntemplate.Function
	// tpl is the synthesized template (its alarms, queues, schedule).
	tpl *cfntemplate.Template
	// aaids is the compiled command line, for redrive.
	aaids string
	dests map[string]*destDeployment
}

// destDeployment is one destination function as the template configures it.
type destDeployment struct {
	name string
	bin  string
	fn   *cfntemplate.Function
	// routes are the rules that deliver to it, directly or through its
	// pacing queues; mappings are its queues' event source mappings.
	routes    []route
	mappings  []cfntemplate.Mapping
	secretARN string
}

// destinations are the destination functions the suite runs: the variable
// naming each one's secret tells its function apart in the template, and
// the main package is what the suite compiles.
var destinations = []struct {
	name, secretVar, main string
}{
	{"slack", slack.EnvWebhookSecretARN, "./lambdas/slack-destination"},
	{"webhook", webhook.EnvSecretARN, "./lambdas/webhook-destination"},
	{"pagerduty", pagerduty.EnvSecretARN, "./lambdas/pagerduty-destination"},
	{"teams", teams.EnvSecretARN, "./lambdas/teams-destination"},
	// E-mail has no secret: its topic tells its function apart.
	{"email", email.EnvTopicARN, "./lambdas/email-destination"},
}

var dep *deployment

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "aaids-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	dep, err = prepare(context.Background(), tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		_ = os.RemoveAll(tmp)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(tmp)
	os.Exit(code)
}

// repoRoot is the module root, from this file's directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func prepare(ctx context.Context, tmp string) (*deployment, error) {
	d := &deployment{repo: repoRoot(), dests: map[string]*destDeployment{}}
	var (
		wg       sync.WaitGroup
		buildErr [3]error
		destErr  = make([]error, len(destinations))
	)
	wg.Add(3 + len(destinations))
	go func() {
		defer wg.Done()
		d.emulator, buildErr[0] = lambdaemu.BuildEmulator(ctx, d.repo, tmp)
	}()
	go func() {
		defer wg.Done()
		d.sourceBin, buildErr[1] = lambdaemu.BuildFunction(ctx, d.repo, "./lambdas/cloudtrail-source", filepath.Join(tmp, "cloudtrail-source"))
	}()
	go func() {
		defer wg.Done()
		d.aaids, buildErr[2] = lambdaemu.BuildFunction(ctx, d.repo, "./cmd/aaids", filepath.Join(tmp, "aaids"))
	}()
	for i, dst := range destinations {
		dd := &destDeployment{name: dst.name}
		d.dests[dst.name] = dd
		go func() {
			defer wg.Done()
			dd.bin, destErr[i] = lambdaemu.BuildFunction(ctx, d.repo, dst.main, filepath.Join(tmp, dst.name+"-destination"))
		}()
	}
	tpl, synthErr := synthesize(ctx, d.repo, filepath.Join(tmp, "cdk.out"))
	wg.Wait()
	d.destBin = d.dests["slack"].bin
	for _, err := range append(append(buildErr[:], destErr...), synthErr) {
		if err != nil {
			return nil, err
		}
	}
	if err := d.configure(tpl); err != nil {
		return nil, err
	}
	d.tpl = tpl
	return d, nil
}

// statInputs stats every file the suite's subprocesses read (the Go sources,
// the module and lock files): go test records what a running test opens or
// stats, so a cached result is reused only while none of them has changed.
// The builds and the synthesis (in TestMain) run in other processes, which go
// test does not see.
func statInputs(repo string) error {
	return filepath.WalkDir(repo, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "cdk.out", "dist", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		switch name := d.Name(); {
		case strings.HasSuffix(name, ".go"), name == "go.mod", name == "go.sum", name == "cdk.json", name == "package-lock.json":
			_, err = os.Stat(path)
		}
		return err
	})
}

// synthesize runs the CDK app (app.go) as `cdk synth` would, with Lambda
// bundling skipped, and parses the stack's template. It runs the app in its
// own process so jsii uses the Node.js on PATH, with the project's pinned one
// (node_modules/.bin) first. contextEntries are further CDK context entries,
// each `"key":value` as in CDK_CONTEXT_JSON.
func synthesize(ctx context.Context, repo, outDir string, contextEntries ...string) (*cfntemplate.Template, error) {
	cmd := exec.CommandContext(ctx, "go", "run", ".")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(),
		"PATH="+filepath.Join(repo, "node_modules", ".bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
		"CDK_OUTDIR="+outDir,
		`CDK_CONTEXT_JSON={"aws:cdk:bundling-stacks":[]`+strings.Join(append([]string{""}, contextEntries...), ",")+`}`,
	)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("synthesize the CDK app: %w\n%s", err, out)
	}
	manifest, err := os.ReadFile(filepath.Join(outDir, "manifest.json"))
	if err != nil {
		return nil, fmt.Errorf("synthesize the CDK app: %w", err)
	}
	var m struct {
		Artifacts map[string]struct {
			Type       string `json:"type"`
			Properties struct {
				TemplateFile string `json:"templateFile"`
			} `json:"properties"`
		} `json:"artifacts"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("read the cloud assembly manifest: %w", err)
	}
	var files []string
	for _, a := range m.Artifacts {
		if a.Type == "aws:cloudformation:stack" {
			files = append(files, a.Properties.TemplateFile)
		}
	}
	if len(files) != 1 {
		return nil, fmt.Errorf("the app synthesized %d stacks, want 1: %v", len(files), files)
	}
	data, err := os.ReadFile(filepath.Join(outDir, files[0]))
	if err != nil {
		return nil, err
	}
	return cfntemplate.Parse(data)
}

// localValues returns the activity bus's logical id and the local values the
// template's references resolve to.
func localValues(tpl *cfntemplate.Template) (string, cfntemplate.Values, error) {
	bus, err := tpl.Only(cfntemplate.TypeEventBus)
	if err != nil {
		return "", cfntemplate.Values{}, err
	}
	vals := cfntemplate.Values{
		Refs: map[string]string{
			bus: localBusName, "CloudTrailLogGroupName": logGroup,
			"AWS::Region": localRegion, "AWS::AccountId": localAccount, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
		},
		Attrs: map[string]string{bus + ".Arn": localBusARN, bus + ".Name": localBusName},
	}
	// Each destination's secret gets a local ARN; Slack's is the one the
	// suite has always used.
	for _, secret := range tpl.OfType(cfntemplate.TypeSecret) {
		arn := "arn:aws:secretsmanager:" + localRegion + ":" + localAccount + ":secret:e2e-" + strings.ToLower(secret) + "-AbCdEf"
		if strings.HasPrefix(secret, "SlackDestination") {
			arn = localSecretARN
		}
		vals.Refs[secret] = arn
	}
	// Topics resolve to their ARN's form.
	for _, topic := range tpl.OfType("AWS::SNS::Topic") {
		vals.Refs[topic] = "arn:aws:sns:" + localRegion + ":" + localAccount + ":" + topic
	}
	// Queues resolve to their URL's form; the suites that read a queue
	// point the function at a local SQS of their own.
	for _, q := range tpl.OfType("AWS::SQS::Queue") {
		vals.Refs[q] = "https://sqs." + localRegion + ".amazonaws.com/" + localAccount + "/" + q
	}
	table, err := tpl.Only(cfntemplate.TypeTable)
	if err != nil {
		return "", cfntemplate.Values{}, err
	}
	vals.Refs[table] = localTableName
	// The parameters a stack created with its defaults has (the burst
	// threshold, the notification window and group key).
	for name, v := range tpl.Defaults() {
		vals.Refs[name] = v
	}
	return bus, vals, nil
}

// configure finds both functions and the rule by their wiring, resolves their
// environment to the local values and checks the grants the local endpoints
// rely on.
func (d *deployment) configure(tpl *cfntemplate.Template) error {
	bus, vals, err := localValues(tpl)
	if err != nil {
		return err
	}
	sourceID, err := tpl.SubscribedFunction()
	if err != nil {
		return err
	}
	if d.source, err = tpl.Function(sourceID, vals); err != nil {
		return err
	}
	for _, id := range tpl.OfType(cfntemplate.TypeFunction) {
		// A destination is a rule's target, or reads pacing queues that
		// rules feed.
		mappings, err := tpl.QueuesOf(id)
		if err != nil {
			return err
		}
		targets := []string{id}
		for _, m := range mappings {
			targets = append(targets, m.QueueID)
		}
		rules, err := tpl.RulesTargeting(targets...)
		if err != nil {
			continue
		}
		fn, err := tpl.Function(id, vals)
		if err != nil {
			return err
		}
		var dd *destDeployment
		for _, dst := range destinations {
			if arn, ok := fn.Env[dst.secretVar]; ok {
				if d.dests[dst.name].fn != nil {
					return fmt.Errorf("two %s destination functions: %s, %s", dst.name, d.dests[dst.name].fn.LogicalID, id)
				}
				dd = d.dests[dst.name]
				dd.secretARN = arn
			}
		}
		if dd == nil {
			return fmt.Errorf("rule target %s is no destination the suite knows (environment %v)", id, keys(fn.Env))
		}
		for _, rule := range rules {
			if rule.BusID != bus {
				return fmt.Errorf("rule %s is on %q, not on the activity bus %s", rule.LogicalID, rule.BusID, bus)
			}
			// The pattern as deployed with the parameters' defaults.
			pattern, err := tpl.ResolvePattern(rule.Pattern, nil)
			if err != nil {
				return fmt.Errorf("rule %s: %w", rule.LogicalID, err)
			}
			compiled, err := eventpattern.Compile(pattern)
			if err != nil {
				return fmt.Errorf("rule %s: %w", rule.LogicalID, err)
			}
			dd.routes = append(dd.routes, route{rule: rule.LogicalID, target: rule.FunctionIDs[0], pattern: compiled})
		}
		dd.fn, dd.mappings = fn, mappings
		if dd.name == "email" {
			// Its "secret" is the topic, which it may publish to.
			if pubs, err := tpl.Allowed(fn.RoleID, "sns:Publish", vals); err != nil || !slices.Contains(pubs, dd.secretARN) {
				return fmt.Errorf("the e-mail destination's role may publish to %v (%v), not its topic", pubs, err)
			}
			continue
		}
		if reads, err := tpl.Allowed(fn.RoleID, "secretsmanager:GetSecretValue", vals); err != nil || !slices.Contains(reads, dd.secretARN) {
			return fmt.Errorf("the %s destination's role may read %v (%v), not its secret", dd.name, reads, err)
		}
	}
	for _, dd := range d.dests {
		if dd.fn == nil {
			return fmt.Errorf("the template has no %s destination", dd.name)
		}
	}
	sd := d.dests["slack"]
	d.dest = sd.fn
	if sd.secretARN != localSecretARN {
		return fmt.Errorf("the Slack destination reads %s, not the Slack secret", sd.secretARN)
	}
	// The local endpoints accept the bus and the secret the template names;
	// the functions may only use them if the template grants it.
	if puts, err := tpl.Allowed(d.source.RoleID, "events:PutEvents", vals); err != nil || !slices.Contains(puts, localBusARN) {
		return fmt.Errorf("the source's role may PutEvents on %v (%v), not on the activity bus", puts, err)
	}
	return nil
}

// observe, when set, sees every function just before it is stopped (the
// reliability report reads its INIT duration and peak memory).
var observe func(name string, f *lambdaemu.Function)

// options change one pipeline from what the template says, each for a
// reason the scenario states.
type options struct {
	// destTimeout replaces the destination's function timeout.
	destTimeout time.Duration
	// destEnv and sourceEnv override template environment variables.
	destEnv, sourceEnv map[string]string
	// destination names the destination the pipeline runs (default
	// "slack"), with its local receiver.
	destination string
	// aggregate runs both functions with the correlation state in a
	// dynalite table, as the template configures them: the source derives
	// bursts, the destination applies its notification policy. Without it
	// the scenarios run the per-activity path (STATE_TABLE unset): every
	// activity is posted, nothing derived.
	aggregate bool
	// source, sourceBin and sourceName replace the log-group source:
	// another source function as a template configures it, its compiled
	// binary and its name (the metrics' Function dimension).
	source                *cfntemplate.Function
	sourceBin, sourceName string
	// slackApp runs the Slack destination in app mode: the secret holds a
	// bot token and a channel the local Slack's Web API knows
	// (e2eBotToken, e2eChannel), and SLACK_API_URL points there.
	slackApp bool
}

// receiver is a destination's local endpoint as the ledger sees it.
type receiver interface {
	// Accepted is the number of messages it accepted.
	Accepted() int
	// Requests is the number of requests it received.
	Requests() int
}

// slackReceiver counts the local Slack's messages.
type slackReceiver struct{ *localslack.Server }

func (r slackReceiver) Accepted() int { return len(r.Messages()) + len(r.Posted()) }

// pagerdutyReceiver counts the local Events API's accepted events.
type pagerdutyReceiver struct{ *localpagerduty.Server }

func (r pagerdutyReceiver) Accepted() int { return len(r.Events()) }

// teamsReceiver counts the local Teams webhook's accepted messages.
type teamsReceiver struct{ *localteams.Server }

func (r teamsReceiver) Accepted() int { return len(r.Messages()) }

// snsReceiver counts the local SNS endpoint's published messages.
type snsReceiver struct{ *localsns.Server }

func (r snsReceiver) Accepted() int { return len(r.Published()) }

// webhookReceiver counts the local webhook receiver's deliveries.
type webhookReceiver struct{ *localwebhook.Server }

func (r webhookReceiver) Accepted() int { return len(r.Deliveries()) }

// pipeline is one fresh deployment: local endpoints and both functions under
// their own emulators, plus the ledger of what went where.
type pipeline struct {
	t     testing.TB
	eb    *localeventbridge.Server
	sm    *localsecrets.Server
	slack *localslack.Server
	// webhook is the signed webhook's receiver, when the pipeline runs it.
	webhook *localwebhook.Server
	// pagerduty is the local Events API, when the pipeline runs PagerDuty.
	pagerduty *localpagerduty.Server
	// teams is the local Workflows webhook, when the pipeline runs Teams.
	teams *localteams.Server
	// sns is the local SNS endpoint, when the pipeline runs e-mail.
	sns *localsns.Server
	// recv is the running destination's receiver.
	recv   receiver
	dd     *destDeployment
	source *lambdaemu.Function
	dest   *lambdaemu.Function
	// destEnv and destTimeout are what dest was started with, for another
	// execution environment of it.
	destEnv     map[string]string
	destTimeout time.Duration

	// delivered counts the bus entries already handed to the bus step.
	delivered int
	// bySource are the results of every source invocation.
	bySource []invocation
	// byDest are the results of every destination invocation.
	byDest []invocation
	// filtered counts entries the rule did not match.
	filtered int
	// lambdaRetries counts invocations the test repeated as Lambda's
	// asynchronous retry would.
	lambdaRetries int
	// lost accumulates units that ended neither delivered nor in a failed
	// invocation (which Lambda retries and keeps in an on-failure queue).
	lost int
}

// invocation is one invocation's result with the number of units it carried
// (log events for the source, one activity for the destination) and how many
// came out (entries published, messages posted).
type invocation struct {
	res   *lambdaemu.Result
	units int
	out   int
	id    string
}

func newPipeline(t testing.TB, opts options) *pipeline {
	t.Helper()
	if err := statInputs(dep.repo); err != nil {
		t.Fatal(err)
	}
	p := &pipeline{t: t}
	p.eb = localeventbridge.New(localeventbridge.Options{
		BusName:        localBusName,
		ValidateDetail: func(b []byte) error { _, err := activity.Parse(b); return err },
	})
	t.Cleanup(p.eb.Close)
	name := opts.destination
	if name == "" {
		name = "slack"
	}
	p.dd = dep.dests[name]
	switch name {
	case "slack":
		p.slack = localslack.New()
		t.Cleanup(p.slack.Close)
		p.recv = slackReceiver{p.slack}
		p.sm = localsecrets.New(p.dd.secretARN, p.slack.URL())
		if opts.slackApp {
			p.slack.AddBot(e2eBotToken, e2eChannel)
			p.sm.SetValue(`{"botToken":"` + e2eBotToken + `","channel":"` + e2eChannel + `"}`)
			opts.destEnv = merge(opts.destEnv, map[string]string{slack.EnvAPIURL: p.slack.APIURL()})
		}
	case "webhook":
		p.webhook = localwebhook.New(localwebhook.Options{})
		t.Cleanup(p.webhook.Close)
		p.recv = webhookReceiver{p.webhook}
		p.sm = localsecrets.New(p.dd.secretARN, p.webhook.SecretValue())
	case "pagerduty":
		p.pagerduty = localpagerduty.New(0)
		t.Cleanup(p.pagerduty.Close)
		p.recv = pagerdutyReceiver{p.pagerduty}
		p.sm = localsecrets.New(p.dd.secretARN, `{"routingKey":"`+e2eRoutingKey+`"}`)
		// The one setting the template leaves to its default: the endpoint.
		opts.destEnv = merge(opts.destEnv, map[string]string{pagerduty.EnvEventsURL: p.pagerduty.URL()})
	case "teams":
		p.teams = localteams.New(localteams.PerSecond)
		t.Cleanup(p.teams.Close)
		p.recv = teamsReceiver{p.teams}
		p.sm = localsecrets.New(p.dd.secretARN, p.teams.URL())
	case "email":
		// The topic the template names, and no secret.
		p.sns = localsns.New(p.dd.secretARN)
		t.Cleanup(p.sns.Close)
		p.recv = snsReceiver{p.sns}
		p.sm = localsecrets.New("arn:aws:secretsmanager:"+localRegion+":"+localAccount+":secret:e2e-unused-AbCdEf", "unused")
		opts.destEnv = merge(opts.destEnv, map[string]string{"AWS_ENDPOINT_URL_SNS": p.sns.URL()})
	default:
		t.Fatalf("no receiver for destination %q", name)
	}
	t.Cleanup(p.sm.Close)

	state := map[string]string{correlation.EnvStateTable: ""}
	if opts.aggregate {
		state = p.startTable()
	}
	// No local SQS unless a suite brings one: parking a partly published
	// batch then fails at once (connection refused), and the batch fails as
	// a whole, as it did before parking.
	srcEnv := merge(dep.source.Env, state, map[string]string{"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9"}, opts.sourceEnv, map[string]string{"AWS_ENDPOINT_URL_EVENTBRIDGE": p.eb.URL()})
	src, srcBin, srcName := dep.source, dep.sourceBin, "CloudTrailSource"
	if opts.source != nil {
		src, srcBin, srcName = opts.source, opts.sourceBin, opts.sourceName
		srcEnv = merge(src.Env, state, opts.sourceEnv, map[string]string{"AWS_ENDPOINT_URL_EVENTBRIDGE": p.eb.URL()})
	}
	p.source = p.start(src, srcBin, srcName, srcEnv, src.Timeout)
	timeout := p.dd.fn.Timeout
	if opts.destTimeout > 0 {
		timeout = opts.destTimeout
	}
	// The secret holds the local Slack's loopback URL: the local-testing
	// setting, which the template never carries, lets the function post there.
	dstEnv := merge(p.dd.fn.Env, state, opts.destEnv, map[string]string{"AWS_ENDPOINT_URL_SECRETS_MANAGER": p.sm.URL(), slack.EnvAllowLoopbackWebhook: "true"})
	// The function's name, as the metrics' Function dimension carries it.
	fnName := map[string]string{"slack": "SlackDestination", "webhook": "SignedWebhookDestination", "pagerduty": "PagerDutyDestination", "teams": "TeamsDestination", "email": "EmailDestination"}[name]
	p.dest = p.start(p.dd.fn, p.dd.bin, fnName, dstEnv, timeout)
	p.destEnv, p.destTimeout = dstEnv, timeout
	return p
}

// startTable starts dynalite with the state table the template names and
// returns the environment that points the functions at it.
func (p *pipeline) startTable() map[string]string {
	p.t.Helper()
	ctx := context.Background()
	srv, err := dynalite.Start(ctx)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(srv.Close)
	if err := srv.CreateTable(ctx, correlation.TableSchema(localTableName)); err != nil {
		p.t.Fatal(err)
	}
	if dep.source.Env[correlation.EnvStateTable] != localTableName || p.dd.fn.Env[correlation.EnvStateTable] != localTableName {
		p.t.Fatalf("the template does not give both functions the state table (%q, %q)",
			dep.source.Env[correlation.EnvStateTable], p.dd.fn.Env[correlation.EnvStateTable])
	}
	return map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": srv.URL}
}

func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func (p *pipeline) start(fn *cfntemplate.Function, bin, name string, env map[string]string, timeout time.Duration) *lambdaemu.Function {
	p.t.Helper()
	f, err := lambdaemu.Start(context.Background(), lambdaemu.Config{
		Emulator: dep.emulator, Bootstrap: bin, Name: name, Env: env,
		Timeout: timeout, MemoryMB: fn.MemoryMB, LogFormat: fn.LogFormat, LogLevel: fn.LogLevel,
		Region: localRegion, AccessKeyID: localaws.AccessKeyID, SecretAccessKey: localaws.SecretAccessKey,
	})
	if err != nil {
		p.t.Fatalf("start %s: %v", name, err)
	}
	p.t.Cleanup(func() {
		if observe != nil {
			observe(name, f)
		}
		if p.t.Failed() {
			p.t.Logf("%s logs:\n%s", name, tail(f.Logs(), 6000))
		}
		f.Close()
	})
	return f
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// invokeSource invokes the source with a subscription payload carrying units
// log events and records what it published.
func (p *pipeline) invokeSource(payload []byte, units int) invocation {
	p.t.Helper()
	before := len(p.eb.Accepted())
	res, err := p.source.Invoke(context.Background(), payload)
	if err != nil {
		p.t.Fatalf("invoke source: %v", err)
	}
	inv := invocation{res: res, units: units, out: len(p.eb.Accepted()) - before}
	if !res.Failed() && inv.out < units {
		// A successful invocation must have published every log event.
		p.lost += units - inv.out
	}
	p.bySource = append(p.bySource, inv)
	return inv
}

// retrySource invokes the source again with a payload whose invocation
// failed, as Lambda's asynchronous retry does.
func (p *pipeline) retrySource(payload []byte, units int) invocation {
	p.lambdaRetries++
	return p.invokeSource(payload, units)
}

// envelope is the event EventBridge delivers for an accepted entry.
func envelope(e localeventbridge.Entry) ([]byte, error) {
	at := time.Now().UTC()
	if e.Time != nil {
		at = e.Time.UTC()
	}
	resources := e.Resources
	if resources == nil {
		resources = []string{}
	}
	return json.Marshal(events.EventBridgeEvent{
		Version: "0", ID: e.EventID, DetailType: e.DetailType, Source: e.Source,
		AccountID: localAccount, Time: at.Truncate(time.Second), Region: localRegion,
		Resources: resources, Detail: json.RawMessage(e.Detail),
	})
}

// deliver hands the entries published since the last call, at most max of
// them (0: all), to the destination as the rule would: each that matches the
// rule's pattern, in its envelope, one invocation each.
func (p *pipeline) deliver(max int) []invocation {
	p.t.Helper()
	entries := p.eb.Accepted()[p.delivered:]
	if max > 0 && len(entries) > max {
		entries = entries[:max]
	}
	var out []invocation
	for _, e := range entries {
		p.delivered++
		ev, err := envelope(e)
		if err != nil {
			p.t.Fatalf("envelope: %v", err)
		}
		_, ok, err := p.dd.routeOf(ev)
		if err != nil {
			p.t.Fatal(err)
		}
		if !ok {
			p.filtered++
			continue
		}
		before := p.recv.Accepted()
		res, err := p.dest.Invoke(context.Background(), ev)
		if err != nil {
			p.t.Fatalf("invoke destination: %v", err)
		}
		inv := invocation{res: res, units: 1, out: p.recv.Accepted() - before, id: detailID(e.Detail)}
		// A heartbeat canary is counted by the destination, never posted.
		wantOut := 1
		if e.Source == activity.SourcePrefix+heartbeat.Source {
			wantOut = 0
		}
		if !res.Failed() && inv.out != wantOut {
			p.lost += wantOut - min(inv.out, wantOut)
		}
		p.byDest = append(p.byDest, inv)
		out = append(out, inv)
	}
	return out
}

func detailID(detail string) string {
	var d struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal([]byte(detail), &d)
	return d.ID
}

// published returns the activities on the bus, parsed.
func (p *pipeline) published() []*activity.Activity {
	p.t.Helper()
	var out []*activity.Activity
	for _, e := range p.eb.Accepted() {
		a, err := activity.Parse([]byte(e.Detail))
		if err != nil {
			p.t.Fatalf("published detail does not parse: %v", err)
		}
		out = append(out, a)
	}
	return out
}

// tally is a scenario's row of figures.
type tally struct {
	published, posted, lost int
	retries                 string
	putEventsRetries        int
	slackRetries            int
}

// tally checks the invariants every scenario must hold (nothing lost,
// nothing published or posted twice, every message within Slack's limits
// and free of live mentions and links) and returns the figures.
func (p *pipeline) tally() tally {
	p.t.Helper()
	acts := p.published()
	ids := map[string]int{}
	for _, a := range acts {
		ids[a.ID]++
	}
	for id, n := range ids {
		if n > 1 {
			p.t.Errorf("activity %s published %d times", id, n)
		}
	}
	if p.filtered > 0 {
		p.t.Errorf("the rule's pattern did not match %d activities", p.filtered)
	}
	posted := map[string]int{}
	for _, inv := range p.byDest {
		if !inv.res.Failed() {
			posted[inv.id]++
		}
	}
	for id, n := range posted {
		if n > 1 {
			p.t.Errorf("activity %s posted %d times", id, n)
		}
	}
	// Every accepted entry was delivered, and every delivery either posted
	// or failed (kept by Lambda's retries and on-failure queue).
	if undelivered := len(acts) - p.delivered; undelivered > 0 {
		p.t.Errorf("%d published activities were never handed to the destination", undelivered)
	}
	if p.lost != 0 {
		p.t.Errorf("lost = %d, want 0", p.lost)
	}
	if p.slack != nil {
		for i, m := range p.slack.Messages() {
			if err := localslack.CheckLimits(m.Raw); err != nil {
				p.t.Errorf("message %d breaks Slack's limits: %v", i, err)
			}
			live, err := localslack.FindLiveMarkup(m.Raw)
			if err != nil || len(live) > 0 {
				p.t.Errorf("message %d has live markup %v (%v)", i, live, err)
			}
		}
		if refused := p.slack.Refused(); len(refused) > 0 {
			p.t.Errorf("local Slack refused %d posts: %v", len(refused), refused[0])
		}
	}
	if p.webhook != nil {
		if refused := p.webhook.Refused(); len(refused) > 0 {
			p.t.Errorf("the local webhook receiver refused requests: %v", refused)
		}
	}

	var tl tally
	tl.published, tl.posted, tl.lost = len(acts), p.recv.Accepted(), p.lost
	for _, e := range p.eb.Accepted() {
		tl.putEventsRetries += p.eb.Attempts(e.Detail) - 1
	}
	failedSources := 0
	for _, inv := range p.bySource {
		if inv.res.Failed() {
			failedSources++
		}
	}
	// Requests the endpoint faulted were retried by the SDK, except the last
	// of each failed invocation.
	tl.putEventsRetries += max(0, p.eb.Faulted()-failedSources)
	tl.slackRetries = p.recv.Requests() - len(p.byDest)
	var parts []string
	if tl.putEventsRetries > 0 {
		parts = append(parts, fmt.Sprintf("%d PutEvents", tl.putEventsRetries))
	}
	if tl.slackRetries > 0 {
		label := p.dd.name
		if label == "slack" {
			label = "Slack"
		}
		parts = append(parts, fmt.Sprintf("%d %s", tl.slackRetries, label))
	}
	if p.lambdaRetries > 0 {
		parts = append(parts, fmt.Sprintf("%d Lambda", p.lambdaRetries))
	}
	tl.retries = "0"
	if len(parts) > 0 {
		tl.retries = strings.Join(parts, " + ")
	}
	return tl
}

// subscription builds the CloudWatch Logs subscription payload for messages,
// as CloudWatch Logs invokes the source, with log event ids unique across
// payloads.
func subscription(messages []string) []byte {
	b := subscriptiontest.Batch{
		Owner: localAccount, LogGroup: logGroup, LogStream: localAccount + "_CloudTrail_" + localRegion,
		Start: time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC), UniqueIDs: true,
	}
	return subscriptiontest.Payload(b.JSON(messages...))
}

// readRecords reads the records of CloudTrail log files, compacted to one
// line each as CloudTrail writes them to CloudWatch Logs.
func readRecords(t testing.TB, paths ...string) []string {
	t.Helper()
	var out []string
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var file struct{ Records []json.RawMessage }
		if err := json.Unmarshal(data, &file); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, r := range file.Records {
			var buf bytes.Buffer
			if err := json.Compact(&buf, r); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			out = append(out, buf.String())
		}
	}
	return out
}

// repoDenials are the 12 recorded denials in testdata.
func repoDenials(t testing.TB) []string {
	return readRecords(t, filepath.Join("testdata", "denials.json"))
}

// fixtureRecords returns the records of every file under the shared
// fixtures' cloudtrail folder, in path order, or skips the test when the
// shared fixtures are absent.
func fixtureRecords(t testing.TB) []string {
	t.Helper()
	dir := sharedfixtures.CloudTrail(t)
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".json") {
			paths = append(paths, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	return readRecords(t, paths...)
}

// distinctIDs returns the first n records, giving a record whose eventID
// repeats one already taken (the fixtures hold some rule-test events in
// several versions) an eventID of its own, so each stays one activity.
func distinctIDs(t testing.TB, records []string, n int) []string {
	t.Helper()
	seen := map[string]int{}
	out := make([]string, 0, n)
	// A plain clone holds fewer records than ../shared (the repository's
	// curated subset): those with an eventID come round again, as copies.
	for pass := 0; len(out) < n; pass++ {
		before := len(out)
		for _, r := range records {
			if len(out) == n {
				break
			}
			var id struct {
				EventID string `json:"eventID"`
			}
			_ = json.Unmarshal([]byte(r), &id)
			if id.EventID == "" && pass > 0 {
				continue // a copy would be the same activity
			}
			if id.EventID != "" {
				seen[id.EventID]++
				if k := seen[id.EventID]; k > 1 {
					r = withEventID(t, r, fmt.Sprintf("%s-copy%d", id.EventID, k))
				}
			}
			out = append(out, r)
		}
		if len(out) == before {
			t.Fatalf("only %d records, want %d", len(out), n)
		}
	}
	return out
}

// withEventID returns record with its eventID replaced, for copies of a
// recorded record that must stay distinct activities.
func withEventID(t testing.TB, record, id string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(record), &m); err != nil {
		t.Fatal(err)
	}
	m["eventID"] = json.RawMessage(strconv.Quote(id))
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// header returns the text of a message's header block.
func header(t testing.TB, m localslack.Message) string {
	t.Helper()
	var msg struct {
		Blocks []struct {
			Type string `json:"type"`
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(m.Raw, &msg); err != nil {
		t.Fatal(err)
	}
	for _, b := range msg.Blocks {
		if b.Type == "header" {
			return b.Text.Text
		}
	}
	t.Fatalf("message has no header: %s", m.Raw)
	return ""
}

// sampleEvent reads a payload of sample-events/.
func sampleEvent(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "sample-events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
