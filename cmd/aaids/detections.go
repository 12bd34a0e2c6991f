package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/detections/sigma"
)

const detectionsUsage = `Usage: aaids detections list [--detections LIST]
       aaids detections coverage [--detections LIST] PATH...
       aaids detections import-sigma [--on PATH] RULE.yml...

list prints the detection presets: id, pack, severity (and threshold),
ATT&CK technique, title, references. LIST is preset ids or packs (cis, threats, self-protection, all), as
the deployed source's DETECTIONS and cdk.json's detections take them.

coverage prints, per preset, how many log events under PATH... it matches
(PATH as for 'aaids filter test': CloudTrail log files, subscription events,
directories, .gz), then the number of events and of events any preset
matched. Default LIST: all.

import-sigma converts Sigma rules for the aws/cloudtrail log source into
presets: the converted ones as a JSON array on stdout, each refused rule with
its reason on stderr, and a count by reason. With --on PATH, each converted
preset carries the number of log events under PATH it matches. Sigma rules
keep their own licence (SigmaHQ's: Detection Rule License 1.1).

Exit status: 0 when everything was read (and every rule converted), 1 when
some input could not be read or some rule was refused, 2 for usage errors.
`

func runDetections(ctx context.Context, args []string, stdio Stdio) int {
	usage := func() int {
		fmt.Fprint(stdio.Err, detectionsUsage)
		return exitUsage
	}
	if len(args) == 0 {
		return usage()
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		fmt.Fprint(stdio.Err, detectionsUsage)
		return exitOK
	}
	fs := flag.NewFlagSet("detections "+args[0], flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	fs.Usage = func() { fmt.Fprint(stdio.Err, detectionsUsage) }
	list := fs.String("detections", detections.PackAll, "preset `ids or packs`, comma-separated")
	on := fs.String("on", "", "import-sigma: count each converted preset's matches in the log events under `PATH`")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	switch args[0] {
	case "list", "coverage":
		presets, err := detections.ParseList(*list)
		if err != nil {
			fmt.Fprintf(stdio.Err, "aaids detections: %v\n", err)
			return exitUsage
		}
		if args[0] == "list" {
			if fs.NArg() != 0 {
				return usage()
			}
			return detectionsList(presets, stdio)
		}
		if fs.NArg() == 0 {
			return usage()
		}
		return detectionsCoverage(ctx, presets, fs.Args(), stdio)
	case "import-sigma":
		if fs.NArg() == 0 {
			return usage()
		}
		return importSigma(ctx, fs.Args(), *on, stdio)
	}
	return usage()
}

func detectionsList(presets []*detections.Preset, stdio Stdio) int {
	tw := tabwriter.NewWriter(stdio.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPACK\tSEVERITY\tATT&CK\tTITLE\tREFERENCES")
	for _, p := range presets {
		id, sev := p.ID, string(p.Severity)
		if p.ID == detections.DefaultID {
			id += " (default)"
		}
		if t := p.Threshold; t != nil {
			sev = fmt.Sprintf("%s (%d in %s)", sev, t.Count, t.Window)
		}
		technique, _, _ := strings.Cut(p.Technique, " ")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", id, p.Pack, sev, technique, p.Title, strings.Join(p.References, "; "))
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stdio.Err, "aaids detections: %v\n", err)
		return exitInput
	}
	return exitOK
}

// coverage counts, per preset, the log events under paths it matches.
func coverage(ctx context.Context, cmd string, presets []*detections.Preset, paths []string, stdio Stdio) (counts []int, total, any, failed int) {
	set := detections.NewSet(presets)
	index := make(map[*detections.Preset]int, len(presets))
	for i, p := range presets {
		index[p] = i
	}
	counts = make([]int, len(presets))
	failed = eachLogEvent(ctx, cmd, paths, stdio, func(msg []byte) error {
		total++
		m := set.Match(msg)
		if len(m) > 0 {
			any++
		}
		for _, p := range m {
			counts[index[p]]++
		}
		return nil
	})
	return counts, total, any, failed
}

func detectionsCoverage(ctx context.Context, presets []*detections.Preset, paths []string, stdio Stdio) int {
	counts, total, any, failed := coverage(ctx, "aaids detections coverage", presets, paths, stdio)
	tw := tabwriter.NewWriter(stdio.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPACK\tSEVERITY\tMATCHED")
	for i, p := range presets {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", p.ID, p.Pack, p.RecordSeverity(), counts[i])
	}
	fmt.Fprintf(tw, "(any preset)\t\t\t%d of %d\n", any, total)
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stdio.Err, "aaids detections coverage: %v\n", err)
		return exitInput
	}
	if failed > 0 {
		return exitInput
	}
	return exitOK
}

// sigmaPreset is a converted preset as import-sigma prints it.
type sigmaPreset struct {
	ID           string   `json:"id"`
	Title        string   `json:"title"`
	Severity     string   `json:"severity"`
	Tactic       string   `json:"tactic,omitempty"`
	Technique    string   `json:"technique,omitempty"`
	Pattern      string   `json:"pattern"`
	Rationale    string   `json:"rationale,omitempty"`
	BenignCauses string   `json:"benignCauses,omitempty"`
	Notes        string   `json:"notes"`
	References   []string `json:"references"`
	Source       string   `json:"source"`
	Matched      *int     `json:"matched,omitempty"`
}

func importSigma(ctx context.Context, files []string, on string, stdio Stdio) int {
	const cmd = "aaids detections import-sigma"
	var converted []*detections.Preset
	out := []sigmaPreset{}
	reasons := map[string]int{}
	status := exitOK
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stdio.Err, "%s: %v\n", cmd, err)
			status = exitInput
			continue
		}
		p, err := sigma.Convert(f, data)
		if err != nil {
			var re *sigma.Error
			reason := sigma.ReasonMalformed
			if errors.As(err, &re) {
				reason = re.Reason
			}
			reasons[reason]++
			// The rule's text is the user's input: quoted, never raw.
			fmt.Fprintf(stdio.Err, "%s: %q: refused: %s: %q\n", cmd, f, reason, detail(err, re))
			status = exitInput
			continue
		}
		converted = append(converted, p)
		out = append(out, sigmaPreset{
			ID: p.ID, Title: p.Title, Severity: string(p.Severity), Tactic: p.Tactic, Technique: p.Technique,
			Pattern: p.Pattern, Rationale: p.Rationale, BenignCauses: p.BenignCauses, Notes: p.Notes,
			References: p.References, Source: f,
		})
	}
	if on != "" && len(converted) > 0 {
		counts, total, _, failed := coverage(ctx, cmd, converted, []string{on}, stdio)
		for i := range out {
			out[i].Matched = &counts[i]
		}
		fmt.Fprintf(stdio.Err, "%s: matched against %d log events under %s\n", cmd, total, on)
		if failed > 0 {
			status = exitInput
		}
	}
	enc := json.NewEncoder(stdio.Out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(stdio.Err, "%s: %v\n", cmd, err)
		return exitInput
	}
	refused := 0
	keys := make([]string, 0, len(reasons))
	for k, n := range reasons {
		keys = append(keys, k)
		refused += n
	}
	sort.Strings(keys)
	fmt.Fprintf(stdio.Err, "converted %d of %d rules, refused %d", len(converted), len(converted)+refused, refused)
	for _, k := range keys {
		fmt.Fprintf(stdio.Err, "; %s: %d", k, reasons[k])
	}
	fmt.Fprintln(stdio.Err)
	return status
}

func detail(err error, re *sigma.Error) string {
	if re != nil {
		return re.Detail
	}
	return err.Error()
}
