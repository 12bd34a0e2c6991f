#!/usr/bin/env bash
# dev.sh: the developer workflow of Activity Aware IDS.
#
#   ./dev.sh build                     compile each Lambda into dist/<name>/bootstrap and dist/<name>.zip
#   ./dev.sh synth [cdk args]          synthesize the CloudFormation template (cdk-nag checked) into cdk.out/
#   ./dev.sh create <webhook-url|->    deploy the development stack (STACK_NAME, default Activity-Aware-IDS-Dev)
#                                      with no CloudTrail subscription; "-" reads the URL from stdin
#   ./dev.sh deploy [cdk args]         cdk deploy the stack (e.g. --parameters SlackWebhookUrl=https://...)
#   ./dev.sh invoke <function> <event.json>
#                                      invoke a deployed function of STACK_NAME with an event
#   ./dev.sh upload <function>         update only that function's code in STACK_NAME
#   ./dev.sh package <bucket> [prefix] publish the template and its assets to an S3 bucket others can read
#   ./dev.sh test                      gofmt, go vet, go test (fuzz seed corpora included), the hot path
#                                      under the race detector, a real cdk synth
#   ./dev.sh fuzz [time]               explore every fuzz target for time (default FUZZTIME, 10s) each
#   ./dev.sh demo                      synthesize the template and replay sample-events/ locally (no AWS)
#
# <function> is a directory name under lambdas/: cloudtrail-source or slack-destination.
# Every command installs what it needs (npm packages, Go modules) on first use.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"

DEV_STACK="${STACK_NAME:-Activity-Aware-IDS-Dev}"
FUZZTIME="${FUZZTIME:-10s}"
TEST_TIMEOUT="${TEST_TIMEOUT:-20m}"

die() {
	echo "dev.sh: $*" >&2
	exit 1
}

log() { echo "==> $*" >&2; }

# need_node installs the pinned CDK CLI and Node.js (package-lock.json) when
# node_modules is missing or older than the lock file, and puts them first
# on PATH: jsii runs on that node.
need_node() {
	command -v npm >/dev/null || die "npm not found: install Node.js >= 20 (24 preferred) first"
	if [[ ! -x node_modules/.bin/cdk || ! -f node_modules/.package-lock.json ||
		package-lock.json -nt node_modules/.package-lock.json ]]; then
		log "npm ci"
		npm ci --no-audit --no-fund --loglevel=error
	fi
	export PATH="$ROOT/node_modules/.bin:$PATH"
	local major
	major="$(node -p 'process.versions.node.split(".")[0]')"
	((major >= 20)) || die "node $(node --version) is too old: jsii needs Node.js >= 20"
}

need_go() {
	command -v go >/dev/null || die "go not found: install Go 1.26 first"
	go mod download
}

# need_aws fails fast, without network, when no AWS credentials are configured.
need_aws() {
	if [[ -n "${AWS_ACCESS_KEY_ID:-}" && -n "${AWS_SECRET_ACCESS_KEY:-}" ]] ||
		[[ -n "${AWS_PROFILE:-}" || -n "${AWS_WEB_IDENTITY_TOKEN_FILE:-}" ]] ||
		[[ -n "${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:-}" || -n "${AWS_CONTAINER_CREDENTIALS_FULL_URI:-}" ]] ||
		[[ -s "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" ]] ||
		grep -qsE '^\s*(sso_|credential_process|role_arn)' "${AWS_CONFIG_FILE:-$HOME/.aws/config}"; then
		return 0
	fi
	die "no AWS credentials configured: set AWS_PROFILE (after 'aws configure' or 'aws sso login') or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. The build, synth, test and demo commands need none."
}

need_aws_cli() {
	command -v aws >/dev/null || die "the AWS CLI v2 is needed for '$1': https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
}

# lambdas lists the Lambda main packages (directory names under lambdas/).
lambdas() {
	local d
	for d in lambdas/*/; do
		[[ -f "$d/main.go" ]] && basename "$d"
	done
}

check_function() {
	[[ -n "${1:-}" && -f "lambdas/$1/main.go" ]] ||
		die "unknown function '${1:-}': one of $(lambdas | paste -sd' ')"
}

# build_lambda compiles lambdas/$1 exactly as the gofunction construct does.
build_lambda() {
	local name="$1"
	mkdir -p "dist/$name"
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w' \
		-tags lambda.norpc -o "dist/$name/bootstrap" "./lambdas/$name"
	rm -f "dist/$name.zip"
	(cd "dist/$name" && zip -q -X "../$name.zip" bootstrap)
	printf '%-20s bootstrap %8d bytes  zip %8d bytes\n' "$name" \
		"$(wc -c <"dist/$name/bootstrap")" "$(wc -c <"dist/$name.zip")"
}

# physical_id prints the physical id of the function lambdas/$1 in STACK_NAME.
physical_id() {
	local prefix
	case "$1" in
	cloudtrail-source) prefix=CloudTrailSourceFunction ;;
	slack-destination) prefix=SlackDestinationFunction ;;
	*) die "no function for '$1' in the stack" ;;
	esac
	local id
	id="$(aws cloudformation list-stack-resources --stack-name "$DEV_STACK" --output text \
		--query "StackResourceSummaries[?ResourceType=='AWS::Lambda::Function' && starts_with(LogicalResourceId, '$prefix')].PhysicalResourceId")"
	[[ -n "$id" && "$id" != None ]] || die "stack $DEV_STACK has no $1 function: run './dev.sh create <webhook-url>' first"
	echo "$id"
}

# summary prints what a synthesized template contains.
summary() {
	node -e '
		const t = require(process.argv[1]);
		const counts = {};
		for (const r of Object.values(t.Resources)) counts[r.Type] = (counts[r.Type] || 0) + 1;
		console.log(`${Object.keys(t.Resources).length} resources, ${Object.keys(t.Parameters || {}).length} parameters, ${Object.keys(t.Outputs || {}).length} outputs`);
		for (const [type, n] of Object.entries(counts).sort()) console.log(`  ${String(n).padStart(2)}  ${type}`);
	' "$1"
}

cmd_build() {
	need_go
	local name
	for name in $(lambdas); do build_lambda "$name"; done
}

cmd_synth() {
	need_node
	need_go
	cdk synth -q "$@"
}

cmd_create() {
	local url="${1:-}"
	[[ -n "$url" ]] || die "usage: ./dev.sh create <webhook-url|->"
	shift
	if [[ "$url" == - ]]; then
		read -r url
	fi
	[[ "$url" == https://* ]] || die "the webhook URL must start with https://"
	need_aws
	need_node
	need_go
	cdk deploy "$DEV_STACK" -c stackName="$DEV_STACK" \
		--parameters "SlackWebhookUrl=$url" --parameters "CloudTrailLogGroupName=" "$@"
}

cmd_deploy() {
	need_aws
	need_node
	need_go
	cdk deploy "$@"
}

cmd_invoke() {
	local fn="${1:-}" event="${2:-}"
	check_function "$fn"
	[[ -f "$event" ]] || die "usage: ./dev.sh invoke <function> <event.json>"
	need_aws
	need_aws_cli invoke
	local id out
	id="$(physical_id "$fn")"
	out="$(mktemp)"
	trap 'rm -f "$out"' RETURN
	aws lambda invoke --function-name "$id" --cli-binary-format raw-in-base64-out \
		--payload "fileb://$event" --log-type Tail --query LogResult --output text "$out" | base64 -d
	cat "$out"
	echo
}

cmd_upload() {
	local fn="${1:-}"
	check_function "$fn"
	need_aws
	need_aws_cli upload
	need_go
	build_lambda "$fn"
	local id
	id="$(physical_id "$fn")"
	aws lambda update-function-code --function-name "$id" --zip-file "fileb://dist/$fn.zip" \
		--query '[FunctionName,LastUpdateStatus,CodeSha256]' --output text
	aws lambda wait function-updated --function-name "$id"
	log "$fn updated in $DEV_STACK (the next deploy restores the stack's own version)"
}

cmd_package() {
	local bucket="${1:-}" prefix="${2:-activity-aware-ids/}"
	[[ -n "$bucket" ]] || die "usage: ./dev.sh package <bucket> [prefix]"
	need_aws
	need_aws_cli package
	need_node
	need_go
	local stack="Activity-Aware-IDS"
	cdk synth -q -c packageBucket="$bucket" -c packagePrefix="$prefix"
	cdk publish-assets -c packageBucket="$bucket" -c packagePrefix="$prefix" "$stack"
	aws s3 cp "cdk.out/$stack.template.json" "s3://$bucket/${prefix}$stack.template.json"
	local region
	region="$(aws configure get region || true)"
	echo "Template: https://$bucket.s3.amazonaws.com/${prefix}$stack.template.json"
	echo "Install:  https://console.aws.amazon.com/cloudformation/home?region=${region:-us-east-1}#/stacks/quickcreate?stackName=$stack&templateURL=https://$bucket.s3.amazonaws.com/${prefix}$stack.template.json"
	echo "Installers need s3:GetObject on s3://$bucket/${prefix}*."
}

# fuzz_one runs one fuzz target for FUZZTIME. A failure that wrote a failing
# input under testdata/fuzz/ fails the run. Go 1.26's fuzz coordinator can
# also report "context deadline exceeded" at the end of -fuzztime on a loaded
# machine without any failing input (golang/go#75804, fixed in Go 1.27): that
# one alone is run again once, and said, never hidden.
fuzz_one() {
	local dir="$1" name="$2" out corpus="$1/testdata/fuzz/$2" before after try
	for try in 1 2; do
		before="$(ls "$corpus" 2>/dev/null | sort || true)"
		if out="$(go test -run='^$' -fuzz="^$name\$" -fuzztime="$FUZZTIME" "$dir" 2>&1)"; then
			printf '%s\n' "$out" | tail -n 1
			return 0
		fi
		after="$(ls "$corpus" 2>/dev/null | sort || true)"
		printf '%s\n' "$out"
		if [[ "$before" != "$after" ]] || ! grep -q 'context deadline exceeded' <<<"$out"; then
			die "fuzz $dir $name failed (a failing input, if any, is under $corpus)"
		fi
		log "  $name: Go's fuzz coordinator reported its deadline race (golang/go#75804), no failing input written; try $try of 2"
	done
	die "fuzz $dir $name: the deadline race twice in a row"
}

# RACE_PACKAGES run again under the race detector in test (the hot path, and
# the correlation, whose claims run concurrently).
RACE_PACKAGES=(./eventbus ./activity ./internal/jsonscan ./sources/cloudtrail ./cmd/aaids ./correlation)

cmd_test() {
	need_node
	need_go
	log "gofmt"
	local unformatted
	unformatted="$(find . -name '*.go' -not -path './node_modules/*' -not -path './cdk.out/*' -print0 | xargs -0 gofmt -l)"
	[[ -z "$unformatted" ]] || die "not gofmt-ed: $unformatted"
	log "go vet ./..."
	go vet ./...
	log "go test ./... (every fuzz target runs its seed corpus and testdata/fuzz inputs)"
	go test -timeout "$TEST_TIMEOUT" ./...
	# The packages that recycle memory (sync.Pools, entry blocks handed from
	# call to call, strings read in place) and publish from goroutines, and
	# aaids, whose replay standardizes ahead on other cores.
	log "go test -race on the hot path: ${RACE_PACKAGES[*]}"
	go test -race -timeout "$TEST_TIMEOUT" "${RACE_PACKAGES[@]}"
	log "cdk synth (real bundling; cdk-nag AwsSolutions errors and, with --strict, warnings fail)"
	cdk synth -q --strict
	log "all checks passed"
}

# cmd_fuzz explores every fuzz target for a while. It is not part of test:
# exploration is random, so a gate that ran it would pass or fail by chance;
# every input it ever found is kept under testdata/fuzz/ and replayed by
# go test on every run.
cmd_fuzz() {
	need_go
	FUZZTIME="${1:-$FUZZTIME}"
	log "fuzz ($FUZZTIME each)"
	local file dir name
	while IFS= read -r file; do
		dir="./$(dirname "$file")"
		for name in $(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' "$file"); do
			log "  $dir $name"
			fuzz_one "$dir" "$name"
		done
	done < <(grep -rlE --include='*_test.go' --exclude-dir=node_modules '^func Fuzz[A-Za-z0-9_]*\(' . | sed 's|^\./||' | sort)
	log "no fuzz target found a failing input"
}

cmd_demo() {
	need_node
	need_go
	log "cdk synth"
	cdk synth -q --strict
	local template="cdk.out/Activity-Aware-IDS.template.json"
	echo "Template: $ROOT/$template (cdk-nag AwsSolutions: no unsuppressed findings)"
	summary "$ROOT/$template"
	echo
	# The payloads only: sample-events/decoded/ holds the same batches, readable.
	log "replay sample-events/*.json through the CloudTrail source and the Slack destination"
	go run ./cmd/aaids replay --format text sample-events/*.json
}

usage() {
	sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

main() {
	local cmd="${1:-}"
	[[ $# -gt 0 ]] && shift
	case "$cmd" in
	build | synth | create | deploy | invoke | upload | package | test | fuzz | demo) "cmd_$cmd" "$@" ;;
	-h | --help | help) usage 0 ;;
	*) usage 2 >&2 ;;
	esac
}

main "$@"
