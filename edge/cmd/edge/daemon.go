package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/api"
	"github.com/mocoedge/mocoedge/edge/board"
	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/edge/mqtt"
	"github.com/mocoedge/mocoedge/edge/mqttlink"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/internal/sdnotify"
)

// runDaemon is `edge run`.
func runDaemon(ctx context.Context, env *environment, args []string) error {
	cfg, err := loadConfig(env, "run", "[--config edge.yaml] [--KEY VALUE ...]", args)
	if err != nil {
		return err
	}
	log := newLogger(env, cfg.Log)
	log.Info("edge starting", "version", version, "device_id", cfg.DeviceID, "data_dir", cfg.DataDir,
		"sources", len(cfg.Sources), "model", cfg.Model.Path)
	// The embedded broker comes first, so the client finds it.
	if cfg.MQTT.Broker == config.BrokerEmbedded {
		b, err := mqtt.StartBroker(ctx, cfg.MQTT.EmbeddedAddr, cfg.MQTT.Username, cfg.MQTT.Password, log.With("component", "broker"))
		if err != nil {
			return fmt.Errorf("mqtt.embedded_addr: %w", err)
		}
		defer b.Close()
		log.Info("embedded MQTT broker listening", "addr", b.Addr())
	}
	link := mqttlink.New(log.With("component", "mqtt"), cfg.MQTT.TelemetryInterval.D())
	observers := []agent.Observer{link}
	var brd *board.Board // the firmware board, when bridge.enabled
	if cfg.Bridge.Enabled {
		brd, err = board.New(cfg, board.Options{Logger: log.With("component", "bridge"),
			Bridge: bridge.Config{HostID: cfg.DeviceID, HostVersion: version}})
		if err != nil {
			return fmt.Errorf("bridge: %w", err)
		}
		observers = append(observers, brd)
	}
	a, err := agent.New(ctx, cfg, agent.Options{Logger: log, Version: version, Observers: observers})
	if err != nil {
		return err
	}
	client, err := mqtt.New(mqtt.Options{
		Config: cfg.MQTT, DeviceID: cfg.DeviceID, DataDir: cfg.DataDir, Version: version,
		Logger: log.With("component", "mqtt"), Handler: link,
		StatusFunc: func() (string, string) {
			m, _ := a.Engine().Model()
			return m.SHA256, string(m.Provider)
		},
	})
	if err != nil {
		a.Close()
		return err
	}
	link.Attach(a, client)
	if err := client.Start(ctx); err != nil {
		a.Close()
		return err
	}
	var names []string
	for _, s := range cfg.Sources {
		names = append(names, s.Name)
	}
	client.Discovery(names)

	reg := prometheus.NewRegistry()
	reg.MustRegister(agent.NewCollector(a), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	extra := []func(context.Context) error{link.Run}
	if brd != nil {
		brd.Attach(a, client)
		link.AddCounters(brd.Counters)
		extra = append(extra, brd.Run)
		log.Info("firmware bridge enabled", "port", cfg.Bridge.Port, "baud", cfg.Bridge.Baud, "snapshot", cfg.Bridge.Snapshot)
	}
	if cfg.HTTP.Addr != "" {
		srv := api.NewServer(a, reg, log.With("component", "http"))
		extra = append(extra, func(ctx context.Context) error { return srv.ListenAndServe(ctx, cfg.HTTP.Addr) })
	}
	// systemd (Type=notify, WatchdogSec): ready once everything runs, a
	// watchdog ping while the agent answers, stopping when asked to stop.
	// Without $NOTIFY_SOCKET these do nothing.
	notify := sdnotify.FromEnv(env.getenv)
	extra = append(extra, func(ctx context.Context) error {
		notify.Ready()
		notify.Status(fmt.Sprintf("serving %s; %d sources", cfg.Model.Path, len(cfg.Sources)))
		notify.Watch(ctx, func() bool { a.Health(); return true }) // Health blocks if the agent is wedged
		<-ctx.Done()
		notify.Stopping()
		return nil
	})
	if env.signals != nil {
		extra = append(extra, func(ctx context.Context) error {
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-env.signals:
					log.Info("SIGHUP: reloading the model", "path", cfg.Model.Path)
					a.Reload(ctx, "") // Reload logs a refusal; the old model keeps serving
				}
			}
		})
	}
	runErr := a.Run(ctx, extra...)
	// The agent has drained; say goodbye on MQTT (status "stopped") with
	// what the outbox can deliver in a few seconds.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return errors.Join(runErr, client.Close(cctx))
}

// loadConfig reads the configuration the way every daemon-side verb does:
// defaults, then the file (--config or MOCOEDGE_CONFIG), then MOCOEDGE_*
// variables, then the flags (one per key: --model.path, --http.addr, ...),
// then validation.
func loadConfig(env *environment, name, synopsis string, args []string) (config.Config, error) {
	fs := newFlags(env, name, synopsis)
	cfg, err := config.LoadWithFlags(fs, args, env.getenv)
	switch {
	case err != nil:
		return cfg, err
	case fs.NArg() > 0:
		return cfg, usagef("unexpected argument %q", fs.Arg(0))
	}
	return cfg, nil
}

// newLogger builds the daemon's logger from the log section.
func newLogger(env *environment, c config.Log) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(env.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(env.stderr, opts))
}

// runConfig is `edge config`.
func runConfig(ctx context.Context, env *environment, args []string) error {
	mode := "print"
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "print-default":
			mode = "default"
		case "reference":
			mode = "reference"
		}
	}
	switch mode {
	case "default":
		return config.WriteDefault(env.stdout)
	case "reference":
		_, err := fmt.Fprint(env.stdout, config.Reference())
		return err
	}
	var rest []string
	for _, a := range args {
		if t := strings.TrimLeft(a, "-"); t != "print" {
			rest = append(rest, a)
		}
	}
	cfg, err := loadConfig(env, "config", "[--print-default | --reference | --print [--config edge.yaml] [--KEY VALUE ...]]", rest)
	if err != nil {
		if err == flag.ErrHelp {
			fmt.Fprintln(env.stderr, "\n  --print-default  the commented default configuration\n  --reference      every key with its MOCOEDGE_* variable, default and description (Markdown)\n  --print          the effective configuration (default), passwords hidden")
		}
		return err
	}
	return cfg.Redacted().WriteYAML(env.stdout)
}

// exists reports whether a file exists.
func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
