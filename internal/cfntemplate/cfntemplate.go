// Package cfntemplate reads a synthesized CloudFormation template the way the
// end-to-end suite needs it: it finds the pipeline's functions by their
// wiring (the function a CloudWatch Logs subscription filter invokes, the
// function an EventBridge rule targets), resolves the references in their
// environment to local values (the local bus name, the local secret ARN),
// and reads their timeout, memory, logging configuration, IAM grants and the
// rule's event pattern. A reference it cannot resolve is an error, so a
// rename on either side of the template fails the suite.
package cfntemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Resource types the package reads.
const (
	TypeFunction           = "AWS::Lambda::Function"
	TypeRule               = "AWS::Events::Rule"
	TypeSubscriptionFilter = "AWS::Logs::SubscriptionFilter"
	TypeEventBus           = "AWS::Events::EventBus"
	TypeSecret             = "AWS::SecretsManager::Secret"
	TypePolicy             = "AWS::IAM::Policy"
	TypeEventSourceMapping = "AWS::Lambda::EventSourceMapping"
	TypeTable              = "AWS::DynamoDB::Table"
)

// Sentinel errors, for errors.Is.
var (
	// ErrNotFound reports a resource the template lacks.
	ErrNotFound = errors.New("cfntemplate: not found")
	// ErrUnresolved reports a reference without a local value.
	ErrUnresolved = errors.New("cfntemplate: unresolved reference")
)

// Template is a parsed template.
type Template struct {
	Resources  map[string]Resource                     `json:"Resources"`
	Parameters map[string]Parameter                    `json:"Parameters"`
	Mappings   map[string]map[string]map[string]string `json:"Mappings"`
	// Conditions are the template's conditions, for Fn::If in a pattern.
	Conditions map[string]any `json:"Conditions"`
}

// Parameter is one template parameter.
type Parameter struct {
	Type string `json:"Type"`
	// Default is a string or a number.
	Default json.RawMessage `json:"Default"`
}

// DefaultString returns the parameter's default as the string a Ref to it
// resolves to; ok is false when it has none.
func (p Parameter) DefaultString() (string, bool) {
	if len(p.Default) == 0 {
		return "", false
	}
	var s string
	if json.Unmarshal(p.Default, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(p.Default, &n) == nil {
		return n.String(), true
	}
	return "", false
}

// Defaults returns the parameters that have a default, by name, as the
// strings a Ref to them resolves to when a stack is created with defaults.
func (t *Template) Defaults() map[string]string {
	out := map[string]string{}
	for name, p := range t.Parameters {
		if v, ok := p.DefaultString(); ok {
			out[name] = v
		}
	}
	return out
}

// Resource is one template resource.
type Resource struct {
	Type       string          `json:"Type"`
	Condition  string          `json:"Condition"`
	Properties json.RawMessage `json:"Properties"`
}

// ResolvePattern resolves the intrinsic functions a rule's event pattern may
// hold, {"Fn::Split": [sep, {"Fn::FindInMap": [mapping, {"Ref": param},
// key]}]} (a routing filter's minimum-severity parameter) and {"Fn::If":
// [condition, then, else]} on a condition of Fn::Equals, Fn::Not, Fn::And,
// Fn::Or and Condition (the Slack destination's split of a minimum
// severity), with the parameters' values from params or else their
// defaults, so the pattern is the one CloudFormation would deploy.
func (t *Template) ResolvePattern(raw json.RawMessage, params map[string]string) (json.RawMessage, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("cfntemplate: pattern: %w", err)
	}
	out, err := t.resolveValue(v, params)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

func (t *Template) resolveValue(v any, params map[string]string) (any, error) {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			r, err := t.resolveValue(e, params)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		if args, ok := v["Fn::If"].([]any); ok && len(v) == 1 {
			name, _ := args[0].(string)
			if len(args) != 3 || name == "" {
				return nil, fmt.Errorf("cfntemplate: Fn::If %v", args)
			}
			yes, err := t.condition(map[string]any{"Condition": name}, params)
			if err != nil {
				return nil, err
			}
			if yes {
				return t.resolveValue(args[1], params)
			}
			return t.resolveValue(args[2], params)
		}
		if split, ok := v["Fn::Split"].([]any); ok && len(v) == 1 {
			sep, _ := split[0].(string)
			if len(split) != 2 || sep == "" {
				return nil, fmt.Errorf("cfntemplate: Fn::Split %v", split)
			}
			s, err := t.resolveString(split[1], params)
			if err != nil {
				return nil, err
			}
			var out []any
			for _, part := range strings.Split(s, sep) {
				out = append(out, part)
			}
			return out, nil
		}
		out := map[string]any{}
		for k, e := range v {
			r, err := t.resolveValue(e, params)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return v, nil
}

// condition evaluates a condition function with the parameters' values.
func (t *Template) condition(v any, params map[string]string) (bool, error) {
	m, _ := v.(map[string]any)
	if len(m) == 1 {
		if name, ok := m["Condition"].(string); ok {
			c, ok := t.Conditions[name]
			if !ok {
				return false, fmt.Errorf("%w: condition %s", ErrUnresolved, name)
			}
			return t.condition(c, params)
		}
		if args, ok := m["Fn::Equals"].([]any); ok && len(args) == 2 {
			a, err := t.resolveString(args[0], params)
			if err != nil {
				return false, err
			}
			b, err := t.resolveString(args[1], params)
			return a == b, err
		}
		if args, ok := m["Fn::Not"].([]any); ok && len(args) == 1 {
			c, err := t.condition(args[0], params)
			return !c, err
		}
		for fn, all := range map[string]bool{"Fn::And": true, "Fn::Or": false} {
			args, ok := m[fn].([]any)
			if !ok {
				continue
			}
			for _, a := range args {
				c, err := t.condition(a, params)
				if err != nil {
					return false, err
				}
				if c != all {
					return !all, nil
				}
			}
			return all, nil
		}
	}
	return false, fmt.Errorf("cfntemplate: cannot evaluate condition %v", v)
}

func (t *Template) resolveString(v any, params map[string]string) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok {
			if s, ok := params[ref]; ok {
				return s, nil
			}
			if v, ok := t.Parameters[ref].DefaultString(); ok {
				return v, nil
			}
			return "", fmt.Errorf("%w: parameter %s has no value", ErrUnresolved, ref)
		}
		if args, ok := v["Fn::FindInMap"].([]any); ok && len(args) == 3 {
			var keys [3]string
			for i, a := range args {
				s, err := t.resolveString(a, params)
				if err != nil {
					return "", err
				}
				keys[i] = s
			}
			if s, ok := t.Mappings[keys[0]][keys[1]][keys[2]]; ok {
				return s, nil
			}
			return "", fmt.Errorf("%w: Fn::FindInMap %v", ErrUnresolved, keys)
		}
	}
	return "", fmt.Errorf("cfntemplate: cannot resolve %v in a pattern", v)
}

// Parse parses a template's JSON.
func Parse(data []byte) (*Template, error) {
	var t Template
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("cfntemplate: parse: %w", err)
	}
	if len(t.Resources) == 0 {
		return nil, fmt.Errorf("%w: the template has no resources", ErrNotFound)
	}
	return &t, nil
}

// OfType returns the logical ids of the resources of type typ, sorted.
func (t *Template) OfType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// Only returns the logical id of the one resource of type typ.
func (t *Template) Only(typ string) (string, error) {
	ids := t.OfType(typ)
	if len(ids) != 1 {
		return "", fmt.Errorf("%w: want exactly one %s, found %d %v", ErrNotFound, typ, len(ids), ids)
	}
	return ids[0], nil
}

// Values are the local values of references: Refs by logical id (or pseudo
// parameter, e.g. "AWS::Region"), Attrs by "LogicalId.Attribute".
type Values struct {
	Refs  map[string]string
	Attrs map[string]string
}

// Resolve turns a template value (a string or an intrinsic function: Ref,
// Fn::GetAtt, Fn::Join, Fn::Sub without a variable map) into a string.
func (v Values) Resolve(raw json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), nil
	}
	var fn map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fn); err != nil || len(fn) != 1 {
		return "", fmt.Errorf("cfntemplate: %s is not a string or an intrinsic function", raw)
	}
	switch {
	case fn["Ref"] != nil:
		var id string
		if err := json.Unmarshal(fn["Ref"], &id); err != nil {
			return "", fmt.Errorf("cfntemplate: Ref %s: %w", fn["Ref"], err)
		}
		return v.ref(id)
	case fn["Fn::GetAtt"] != nil:
		var parts []string
		if err := json.Unmarshal(fn["Fn::GetAtt"], &parts); err != nil || len(parts) != 2 {
			return "", fmt.Errorf("cfntemplate: Fn::GetAtt %s: want [id, attribute]", fn["Fn::GetAtt"])
		}
		return v.attr(parts[0] + "." + parts[1])
	case fn["Fn::Join"] != nil:
		var args []json.RawMessage
		if err := json.Unmarshal(fn["Fn::Join"], &args); err != nil || len(args) != 2 {
			return "", fmt.Errorf("cfntemplate: Fn::Join %s: want [separator, list]", fn["Fn::Join"])
		}
		var sep string
		var items []json.RawMessage
		if json.Unmarshal(args[0], &sep) != nil || json.Unmarshal(args[1], &items) != nil {
			return "", fmt.Errorf("cfntemplate: Fn::Join %s: want [separator, list]", fn["Fn::Join"])
		}
		parts := make([]string, len(items))
		for i, item := range items {
			p, err := v.Resolve(item)
			if err != nil {
				return "", err
			}
			parts[i] = p
		}
		return strings.Join(parts, sep), nil
	case fn["Fn::Sub"] != nil:
		var tmpl string
		if err := json.Unmarshal(fn["Fn::Sub"], &tmpl); err != nil {
			return "", fmt.Errorf("cfntemplate: Fn::Sub with a variable map is not supported: %s", fn["Fn::Sub"])
		}
		return v.sub(tmpl)
	}
	for name := range fn {
		return "", fmt.Errorf("%w: intrinsic %s", ErrUnresolved, name)
	}
	return "", nil
}

func (v Values) ref(id string) (string, error) {
	if s, ok := v.Refs[id]; ok {
		return s, nil
	}
	return "", fmt.Errorf("%w: Ref %s", ErrUnresolved, id)
}

func (v Values) attr(key string) (string, error) {
	if s, ok := v.Attrs[key]; ok {
		return s, nil
	}
	return "", fmt.Errorf("%w: Fn::GetAtt %s", ErrUnresolved, key)
}

func (v Values) sub(tmpl string) (string, error) {
	var b strings.Builder
	for {
		start := strings.Index(tmpl, "${")
		if start < 0 {
			b.WriteString(tmpl)
			return b.String(), nil
		}
		end := strings.IndexByte(tmpl[start:], '}')
		if end < 0 {
			return "", fmt.Errorf("cfntemplate: Fn::Sub %q: unclosed ${", tmpl)
		}
		b.WriteString(tmpl[:start])
		name := tmpl[start+2 : start+end]
		var (
			s   string
			err error
		)
		if strings.Contains(name, ".") {
			s, err = v.attr(name)
		} else {
			s, err = v.ref(name)
		}
		if err != nil {
			return "", err
		}
		b.WriteString(s)
		tmpl = tmpl[start+end+1:]
	}
}

// Function is a Lambda function's configuration with its environment
// resolved.
type Function struct {
	LogicalID string
	// Env is the function's environment, references replaced by local
	// values.
	Env map[string]string
	// Timeout and MemoryMB as the template sets them (Lambda's defaults, 3 s
	// and 128 MB, when absent).
	Timeout  time.Duration
	MemoryMB int
	// LogFormat and LogLevel from LoggingConfig ("Text" and "" when absent).
	LogFormat, LogLevel string
	// RoleID is the logical id of the function's execution role.
	RoleID string
}

type functionProps struct {
	Environment struct {
		Variables map[string]json.RawMessage `json:"Variables"`
	} `json:"Environment"`
	Timeout       *int `json:"Timeout"`
	MemorySize    *int `json:"MemorySize"`
	LoggingConfig struct {
		LogFormat           string `json:"LogFormat"`
		ApplicationLogLevel string `json:"ApplicationLogLevel"`
	} `json:"LoggingConfig"`
	Role json.RawMessage `json:"Role"`
}

// Function reads the function with logical id id, resolving its environment
// with vals.
func (t *Template) Function(id string, vals Values) (*Function, error) {
	r, ok := t.Resources[id]
	if !ok || r.Type != TypeFunction {
		return nil, fmt.Errorf("%w: function %s", ErrNotFound, id)
	}
	var p functionProps
	if err := json.Unmarshal(r.Properties, &p); err != nil {
		return nil, fmt.Errorf("cfntemplate: function %s: %w", id, err)
	}
	f := &Function{LogicalID: id, Env: map[string]string{}, Timeout: 3 * time.Second, MemoryMB: 128,
		LogFormat: p.LoggingConfig.LogFormat, LogLevel: p.LoggingConfig.ApplicationLogLevel}
	if f.LogFormat == "" {
		f.LogFormat = "Text"
	}
	if p.Timeout != nil {
		f.Timeout = time.Duration(*p.Timeout) * time.Second
	}
	if p.MemorySize != nil {
		f.MemoryMB = *p.MemorySize
	}
	for k, raw := range p.Environment.Variables {
		s, err := vals.Resolve(raw)
		if err != nil {
			return nil, fmt.Errorf("cfntemplate: function %s: environment %s: %w", id, k, err)
		}
		f.Env[k] = s
	}
	f.RoleID = getAttID(p.Role)
	return f, nil
}

// getAttID returns the logical id of {"Fn::GetAtt": [id, ...]} or {"Ref": id}.
func getAttID(raw json.RawMessage) string {
	var fn struct {
		GetAtt []string `json:"Fn::GetAtt"`
		Ref    string   `json:"Ref"`
	}
	if json.Unmarshal(raw, &fn) != nil {
		return ""
	}
	if len(fn.GetAtt) > 0 {
		return fn.GetAtt[0]
	}
	return fn.Ref
}

// SubscribedFunction returns the logical id of the function the one CloudWatch
// Logs subscription filter invokes.
func (t *Template) SubscribedFunction() (string, error) {
	id, err := t.Only(TypeSubscriptionFilter)
	if err != nil {
		return "", err
	}
	var p struct {
		DestinationArn json.RawMessage `json:"DestinationArn"`
	}
	if err := json.Unmarshal(t.Resources[id].Properties, &p); err != nil {
		return "", fmt.Errorf("cfntemplate: subscription filter %s: %w", id, err)
	}
	fn := getAttID(p.DestinationArn)
	if r, ok := t.Resources[fn]; !ok || r.Type != TypeFunction {
		return "", fmt.Errorf("%w: subscription filter %s does not invoke a function of this template (%s)", ErrNotFound, id, p.DestinationArn)
	}
	return fn, nil
}

// Rule is an EventBridge rule with a function target.
type Rule struct {
	LogicalID string
	// BusID is the logical id of the bus the rule is on.
	BusID string
	// Pattern is the rule's EventPattern.
	Pattern json.RawMessage
	// FunctionIDs are the logical ids of its targets (functions, queues).
	FunctionIDs []string
}

// RuleTargeting returns the one rule that targets the function fn.
func (t *Template) RuleTargeting(fn string) (*Rule, error) {
	found, err := t.rules(fn)
	if err != nil {
		return nil, err
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("%w: want one rule targeting %s, found %d", ErrNotFound, fn, len(found))
	}
	if len(found[0].Pattern) == 0 {
		return nil, fmt.Errorf("%w: rule %s has no EventPattern", ErrNotFound, found[0].LogicalID)
	}
	return found[0], nil
}

// rules returns every rule with a target among ids (functions or queues),
// schedules included.
func (t *Template) rules(ids ...string) ([]*Rule, error) {
	var found []*Rule
	for _, id := range t.OfType(TypeRule) {
		var p struct {
			EventBusName json.RawMessage `json:"EventBusName"`
			EventPattern json.RawMessage `json:"EventPattern"`
			Targets      []struct {
				Arn json.RawMessage `json:"Arn"`
			} `json:"Targets"`
		}
		if err := json.Unmarshal(t.Resources[id].Properties, &p); err != nil {
			return nil, fmt.Errorf("cfntemplate: rule %s: %w", id, err)
		}
		r := &Rule{LogicalID: id, BusID: getAttID(p.EventBusName), Pattern: p.EventPattern}
		hit := false
		for _, target := range p.Targets {
			tid := getAttID(target.Arn)
			r.FunctionIDs = append(r.FunctionIDs, tid)
			hit = hit || slices.Contains(ids, tid)
		}
		if hit {
			found = append(found, r)
		}
	}
	return found, nil
}

// QueuesOf returns the logical ids of the SQS queues whose event source
// mappings invoke the function fn, with each mapping's batch size, maximum
// concurrency and function response types.
func (t *Template) QueuesOf(fn string) ([]Mapping, error) {
	var out []Mapping
	for _, id := range t.OfType(TypeEventSourceMapping) {
		var p struct {
			FunctionName   json.RawMessage `json:"FunctionName"`
			EventSourceArn json.RawMessage `json:"EventSourceArn"`
			BatchSize      int             `json:"BatchSize"`
			ScalingConfig  struct {
				MaximumConcurrency int `json:"MaximumConcurrency"`
			} `json:"ScalingConfig"`
			FunctionResponseTypes []string `json:"FunctionResponseTypes"`
		}
		if err := json.Unmarshal(t.Resources[id].Properties, &p); err != nil {
			return nil, fmt.Errorf("cfntemplate: event source mapping %s: %w", id, err)
		}
		if getAttID(p.FunctionName) == fn {
			out = append(out, Mapping{QueueID: getAttID(p.EventSourceArn), BatchSize: p.BatchSize,
				MaxConcurrency: p.ScalingConfig.MaximumConcurrency, ResponseTypes: p.FunctionResponseTypes})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].QueueID < out[j].QueueID })
	return out, nil
}

// Mapping is an event source mapping from a queue.
type Mapping struct {
	QueueID        string
	BatchSize      int
	MaxConcurrency int
	ResponseTypes  []string
}

// RulesTargeting returns every rule with a pattern that targets one of ids
// (functions or queues), by logical id.
func (t *Template) RulesTargeting(ids ...string) ([]*Rule, error) {
	all, err := t.rules(ids...)
	if err != nil {
		return nil, err
	}
	var found []*Rule
	for _, r := range all {
		if len(r.Pattern) > 0 { // not a schedule
			found = append(found, r)
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%w: no rule targets %s", ErrNotFound, strings.Join(ids, ", "))
	}
	return found, nil
}

// Allowed returns the resources (resolved with vals) that the policies
// attached to role allow action on. A resource that does not resolve is
// returned as the error.
func (t *Template) Allowed(role, action string, vals Values) ([]string, error) {
	var out []string
	for _, id := range t.OfType(TypePolicy) {
		var p struct {
			PolicyDocument struct {
				Statement []struct {
					Effect   string          `json:"Effect"`
					Action   json.RawMessage `json:"Action"`
					Resource json.RawMessage `json:"Resource"`
				} `json:"Statement"`
			} `json:"PolicyDocument"`
			Roles []json.RawMessage `json:"Roles"`
		}
		if err := json.Unmarshal(t.Resources[id].Properties, &p); err != nil {
			return nil, fmt.Errorf("cfntemplate: policy %s: %w", id, err)
		}
		if !slices.ContainsFunc(p.Roles, func(r json.RawMessage) bool { return getAttID(r) == role }) {
			continue
		}
		for _, st := range p.PolicyDocument.Statement {
			if st.Effect != "Allow" || !slices.Contains(oneOrMany(st.Action), action) {
				continue
			}
			var resources []json.RawMessage
			if json.Unmarshal(st.Resource, &resources) != nil {
				resources = []json.RawMessage{st.Resource}
			}
			for _, r := range resources {
				s, err := vals.Resolve(r)
				if err != nil {
					return nil, fmt.Errorf("cfntemplate: policy %s: %s: %w", id, action, err)
				}
				out = append(out, s)
			}
		}
	}
	return out, nil
}

func oneOrMany(raw json.RawMessage) []string {
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	return nil
}
