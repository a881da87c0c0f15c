package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/api"
)

// defaultAddr is where the client verbs look for the daemon.
const defaultAddr = "127.0.0.1:8080"

// clientFlags adds --addr and --json to a client verb.
func clientFlags(env *environment, fs *flag.FlagSet) (addr *string, asJSON *bool) {
	def := defaultAddr
	if v, ok := env.getenv("MOCOEDGE_HTTP_ADDR"); ok && v != "" {
		def = v
	}
	addr = fs.String("addr", def, "the daemon's HTTP API (http.addr; MOCOEDGE_HTTP_ADDR)")
	asJSON = fs.Bool("json", false, "print the daemon's JSON answer")
	return addr, asJSON
}

// printJSON writes v indented.
func printJSON(env *environment, v any) error {
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runStatus is `edge status`.
func runStatus(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "status", "[--addr HOST:PORT] [--json]")
	addr, asJSON := clientFlags(env, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	h, err := api.NewClient(*addr).Health(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env, h)
	}
	fmt.Fprintf(env.stdout, "status    %s (device %s, version %s, up %.0fs)\n", h.Status, h.DeviceID, h.Version, h.UptimeSeconds)
	if h.Model != nil {
		fmt.Fprintf(env.stdout, "model     %s (%s) sha256 %s\nprovider  %s\n", h.Model.Name, h.Model.Arch, h.Model.SHA256, h.Provider)
		for _, s := range h.Model.Skipped {
			fmt.Fprintf(env.stdout, "          skipped %s: %s\n", s.Provider, s.Reason)
		}
	}
	in := h.Inference
	fmt.Fprintf(env.stdout, "inference %d images in %d batches (mean %.1f), request p50 %v p99 %v, rejected %d\n",
		in.Images, in.Batches, in.MeanBatch(), in.Request.P50, in.Request.P99, in.Rejected)
	fmt.Fprintf(env.stdout, "queue     %d/%d entries, %d models, %.1f MB on disk\n", h.Queue.Entries, h.Queue.Capacity, h.Queue.Models, float64(h.Queue.DiskBytes)/1e6)
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "source\tkind\trunning\tframes\tembedded\tdropped\tbad\trestarts\tfps\tlast error")
	for _, s := range h.Sources {
		p := h.Pipeline[s.Name]
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%d\t%d\t%d\t%d\t%.1f\t%s\n", s.Name, s.Kind, s.Running, s.Frames, p.Embedded,
			s.Dropped+p.Busy+p.NoModel, p.BadFrames, s.Restarts, s.FPS, s.LastError)
	}
	return tw.Flush()
}

// runQuery is `edge query`.
func runQuery(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "query", "(--image FILE | --id N) [-k 5] [--source S] [--label L] [--addr HOST:PORT] [--json]")
	addr, asJSON := clientFlags(env, fs)
	image := fs.String("image", "", "a JPEG or PNG file to search with")
	id := fs.Uint64("id", 0, "a queue entry to search with")
	k := fs.Int("k", 0, "number of results (0: the daemon's retrieval.k)")
	var sources, labels listFlag
	fs.Var(&sources, "source", "only entries from this source (repeatable)")
	fs.Var(&labels, "label", "only entries with this label (repeatable)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if (*image == "") == (*id == 0) {
		return usagef("give exactly one of --image FILE and --id N")
	}
	c := api.NewClient(*addr)
	var res agent.QueryResult
	var err error
	if *image != "" {
		data, rerr := os.ReadFile(*image)
		if rerr != nil {
			return fmt.Errorf("image: %w", rerr)
		}
		res, err = c.QueryImage(ctx, data, *k, sources, labels)
	} else {
		res, err = c.QueryID(ctx, *id, *k, sources, labels)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env, res)
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "rank\tid\tscore\ttime\tsource\tlabel")
	for i, r := range res.Results {
		fmt.Fprintf(tw, "%d\t%d\t%.4f\t%s\t%s\t%s\n", i+1, r.ID, r.Score, r.Time.Format("2006-01-02 15:04:05.000"), r.Source, r.Label)
	}
	return tw.Flush()
}

// runLabel is `edge label`.
func runLabel(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "label", "(--id N | --source S) --label NAME [--addr HOST:PORT]")
	addr, asJSON := clientFlags(env, fs)
	id := fs.Uint64("id", 0, "the queue entry to label")
	source := fs.String("source", "", "label the latest frame of this source instead")
	label := fs.String("label", "", "the label (empty with --id clears it)")
	if err := parse(fs, args); err != nil {
		return err
	}
	res, err := api.NewClient(*addr).Label(ctx, api.LabelRequest{ID: *id, Source: *source, Label: *label})
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env, res)
	}
	fmt.Fprintf(env.stdout, "entry %d labelled %q\n", res.ID, res.Label)
	return nil
}

// runSnapshot is `edge snapshot`.
func runSnapshot(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "snapshot", "--source S [--addr HOST:PORT]")
	addr, asJSON := clientFlags(env, fs)
	source := fs.String("source", "", "the source whose current frame is stored (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *source == "" {
		return usagef("--source is required")
	}
	res, err := api.NewClient(*addr).Snapshot(ctx, *source)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env, res)
	}
	fmt.Fprintf(env.stdout, "stored entry %d from %s at %s\n", res.ID, res.Source, res.Time.Format("15:04:05.000"))
	return nil
}

// runReload is `edge reload`.
func runReload(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "reload", "[--model PATH] [--addr HOST:PORT]")
	addr, asJSON := clientFlags(env, fs)
	model := fs.String("model", "", "model to load, inside the daemon's model.dir (default: model.path again)")
	if err := parse(fs, args); err != nil {
		return err
	}
	m, err := api.NewClient(*addr).Reload(ctx, *model)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env, m)
	}
	fmt.Fprintf(env.stdout, "serving %s (sha256 %s) on %s\n", m.Name, m.SHA256, m.Provider)
	return nil
}

// runTrain is `edge train`.
func runTrain(ctx context.Context, env *environment, args []string) error {
	return probeVerb(ctx, env, "train", args, (*api.Client).Train)
}

// runProbe is `edge probe`.
func runProbe(ctx context.Context, env *environment, args []string) error {
	return probeVerb(ctx, env, "probe", args, (*api.Client).Probe)
}

// probeVerb runs a verb that asks the daemon for a probe description.
func probeVerb(ctx context.Context, env *environment, name string, args []string, call func(*api.Client, context.Context) (agent.ProbeInfo, error)) error {
	fs := newFlags(env, name, "[--addr HOST:PORT] [--json]")
	addr, asJSON := clientFlags(env, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	p, err := call(api.NewClient(*addr), ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(env, p)
	}
	printProbe(env, p)
	return nil
}

// printProbe writes a probe description as a few lines.
func printProbe(env *environment, p agent.ProbeInfo) {
	if p.Version == 0 {
		fmt.Fprintf(env.stdout, "no probe trained yet (%d labels so far); label frames with `edge label` and run `edge train`\n", p.NewLabels)
		if p.LastError != "" {
			fmt.Fprintf(env.stdout, "last training: %s\n", p.LastError)
		}
		return
	}
	fmt.Fprintf(env.stdout, "probe v%d: %d classes, held-out accuracy %.1f%% (%s, %d labels), temperature %.3g, unknown below %.2f, serving %v\n",
		p.Version, len(p.Classes), 100*p.Accuracy, p.AccuracyMethod, p.HeldOut, p.Temperature, p.Unknown, p.Serving)
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "class\tlabels")
	for i, c := range p.Classes {
		fmt.Fprintf(tw, "%s\t%d\n", c, p.Counts[i])
	}
	tw.Flush()
	if p.NewLabels > 0 {
		fmt.Fprintf(env.stdout, "%d new labels since it was trained\n", p.NewLabels)
	}
}
