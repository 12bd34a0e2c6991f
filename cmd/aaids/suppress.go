package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/activity-aware/ids/correlation"
)

const suppressUsage = `Usage:
  aaids suppress add (--principal ARN | --detection ID | --source-ip CIDR) [--account ID] --until TIME --reason TEXT
  aaids suppress list [--format text|json]
  aaids suppress remove ID

Manages the suppressions in the deployed state table (the stack's
CorrelationTableName output), through the AWS SDK with the usual credentials
and region; AWS_ENDPOINT_URL_DYNAMODB points it elsewhere. The table is
--table or $AAIDS_STATE_TABLE.

A suppression keeps matching activities out of every channel until TIME
(RFC 3339, e.g. 2026-12-31T00:00:00Z): they are still published and archived,
and each channel counts them in a digest ("12 suppressed") instead of posting
them. It never applies to a critical activity unless it names that
activity's detection. An expired suppression stops applying by itself.
`

func runSuppress(ctx context.Context, args []string, stdio Stdio) int {
	if len(args) == 0 || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprint(stdio.Err, suppressUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("suppress "+sub, flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	fs.Usage = func() { fmt.Fprint(stdio.Err, suppressUsage); fs.PrintDefaults() }
	table := fs.String("table", "", "the state `table` (default $AAIDS_STATE_TABLE)")
	var s correlation.Suppression
	var until, format string
	switch sub {
	case "add":
		fs.StringVar(&s.Principal, "principal", "", "suppress activities by this principal `ARN`")
		fs.StringVar(&s.Detection, "detection", "", "suppress activities carrying this detection `id`")
		fs.StringVar(&s.SourceIP, "source-ip", "", "suppress activities from this `CIDR` (or address)")
		fs.StringVar(&s.Account, "account", "", "only in this AWS account `id`")
		fs.StringVar(&until, "until", "", "expiry `time`, RFC 3339 (required)")
		fs.StringVar(&s.Reason, "reason", "", "why, for whoever reads the list and the digests (required)")
	case "list":
		fs.StringVar(&format, "format", "text", "output `format`: text or json")
	case "remove":
	default:
		fmt.Fprintf(stdio.Err, "aaids suppress: unknown subcommand %q (want add, list or remove)\n", sub)
		return exitUsage
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *table == "" && stdio.Getenv != nil {
		*table = stdio.Getenv("AAIDS_STATE_TABLE")
	}
	if *table == "" {
		fmt.Fprintln(stdio.Err, "aaids suppress: no table: pass --table or set AAIDS_STATE_TABLE (the stack's CorrelationTableName output)")
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stdio.Err, "aaids suppress %s: %v\n", sub, err)
		return exitInput
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fail(fmt.Errorf("load AWS config: %w", err))
	}
	store := correlation.NewDynamoDBStore(dynamodb.NewFromConfig(cfg), *table)

	switch sub {
	case "add":
		if fs.NArg() != 0 {
			fs.Usage()
			return exitUsage
		}
		if s.Until, err = time.Parse(time.RFC3339, until); err != nil {
			fmt.Fprintf(stdio.Err, "aaids suppress add: --until: want an RFC 3339 time such as 2026-12-31T00:00:00Z, got %q\n", until)
			return exitUsage
		}
		s.ID, s.Created = correlation.NewSuppressionID(), time.Now().UTC().Truncate(time.Second)
		if err := s.Validate(); err != nil {
			fmt.Fprintf(stdio.Err, "aaids suppress add: %v\n", err)
			return exitUsage
		}
		if !s.Active(s.Created) {
			fmt.Fprintf(stdio.Err, "aaids suppress add: --until %s is in the past\n", until)
			return exitUsage
		}
		if err := store.PutSuppression(ctx, s); err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdio.Out, s.ID)
	case "list":
		list, err := store.Suppressions(ctx)
		if err != nil {
			return fail(err)
		}
		if format == "json" {
			enc := json.NewEncoder(stdio.Out)
			for _, s := range list {
				if err := enc.Encode(s); err != nil {
					return fail(err)
				}
			}
			return exitOK
		}
		tw := tabwriter.NewWriter(stdio.Out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tMATCHES\tUNTIL\tSTATE\tREASON")
		now := time.Now()
		for _, s := range list {
			state := "active"
			if !s.Active(now) {
				state = "expired"
			}
			// Quoted, so no stored text reaches the terminal raw.
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", strconv.QuoteToGraphic(s.ID), strconv.QuoteToGraphic(s.Criteria()),
				s.Until.UTC().Format(time.RFC3339), state, strconv.QuoteToGraphic(s.Reason))
		}
		_ = tw.Flush()
	case "remove":
		if fs.NArg() != 1 {
			fs.Usage()
			return exitUsage
		}
		if err := store.DeleteSuppression(ctx, fs.Arg(0)); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdio.Out, "removed %s\n", fs.Arg(0))
	}
	return exitOK
}
