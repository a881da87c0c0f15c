// Package mqtt is the edge daemon's MQTT link: it publishes status,
// telemetry and events, takes commands, keeps reports in a persisted outbox
// while the broker is away, runs an optional embedded broker and publishes
// Home Assistant discovery configs.
//
// # Use
//
//	c, err := mqtt.New(mqtt.Options{Config: cfg.MQTT, DeviceID: id, DataDir: dir,
//		Version: v, Logger: l, Handler: h})
//	err = c.Start(ctx) // connects in the background, retrying with back-off
//	c.SetStatus(model, provider)
//	c.Discovery(sourceNames) // Home Assistant, when enabled
//	c.Telemetry(t); c.Prediction(p); c.Retrieval(r); c.Trigger(tr)
//	st := c.Stats()
//	err = c.Close(ctx) // retained status "stopped", clean disconnect
//
// With mqtt.broker "embedded" the client connects to tcp://EMBEDDED_ADDR;
// the daemon starts the broker itself with StartBroker (mochi-mqtt), and the
// client talks to it exactly as to Mosquitto. With "off" New returns a
// client whose methods do nothing.
//
// # Topics
//
// All topics are PREFIX/DEVICE/... (PREFIX is mqtt.topic_prefix, default
// "mocoedge"; DEVICE the device id, also the MQTT client id):
//
//	status             out, retained, QoS 1: Status {"state","version","model","provider","since"}.
//	                   "online" on every connection, "stopped" at Close, and
//	                   {"state":"offline",...} as the will message, sent by the
//	                   broker when the connection dies without a DISCONNECT.
//	telemetry          out, QoS 1: Telemetry, when the daemon calls Telemetry.
//	events/prediction  out, QoS 1: Prediction, at most one per source per
//	                   mqtt.predictions.min_interval, and with on_change only
//	                   when the source's label changed.
//	events/retrieval   out, QoS 1: Retrieval.
//	events/trigger     out, QoS 1: Trigger.
//	cmd/VERB           in, QoS 1: a command, {"request":"ID",...}; see ParseCommand.
//	cmd/VERB/result    out, QoS 1: {"id","request","ok","error"?,...handler fields}.
//	                   Malformed, oversized, unknown-verb and busy commands are
//	                   answered ok:false with the reason (the request id is
//	                   echoed when it could be read; a verb that is not a name
//	                   is answered on cmd/unknown/result), as are handler errors
//	                   and handler panics. Nothing a sender does stops the client.
//
// Every event (telemetry, events/*, results) carries an "id" unique to it,
// DEVICE-BOOT-SEQ with BOOT random per process start: delivery is at least
// once, so dashboards drop repeated ids.
//
// # Outbox and delivery
//
// Every event goes through the outbox, DATA_DIR/outbox/outbox.log (format in
// outbox.go): an append-only log of records framed by length and CRC-32,
// where a report is written when queued and a small "delivered" record when
// the broker acknowledged it (PUBACK) or it was dropped. Reopening replays
// the log, stops at the first torn or corrupt record and rewrites the file
// with only the waiting reports; the file is also rewritten (tmp file, fsync,
// rename) when delivered records outnumber waiting ones twice over.
//
// Records reach the operating system at once, so a crash of the process
// (kill -9) loses nothing; the log is fsynced every Options.SyncInterval
// (1s), so a power cut loses at most the reports queued in the last second
// and may send again the ones acknowledged in the last second (ids make that
// harmless). The outbox keeps at most mqtt.outbox.max_messages reports no
// older than mqtt.outbox.max_age. When full it drops the oldest telemetry
// first, then the oldest prediction, then the oldest of the rest
// (retrievals, triggers, command results); every drop is counted by kind in
// Stats and in each telemetry report ("mqtt" field).
//
// Reports are published in queue order, at most Options.Window (8) awaiting
// their PUBACK at a time, and removed in order as acknowledgements arrive.
// When the connection drops, the client reconnects (exponential back-off
// between Options.MinBackoff and MaxBackoff, with jitter) and publishes
// again from the oldest unacknowledged report, so a subscriber sees every
// report at least once, in order once repeats are dropped by id.
//
// Status and discovery configs are state, not events: they are published
// directly (retained) on each connection and never queued.
package mqtt
