package config

// Config is the whole configuration of the edge daemon. Every field carries
// a yaml name (the key in edge.yaml, also the basis of its MOCOEDGE_*
// variable) and a doc tag (the comment in `edge config --print-default` and
// the line in the configuration reference).
type Config struct {
	DeviceID  string     `yaml:"device_id" doc:"device id: the MQTT client id and topic segment, letters, digits, - and _ (default: the host name, other characters replaced by -)"`
	DataDir   string     `yaml:"data_dir" doc:"folder for the key queue, the probe, the MQTT outbox and snapshots"`
	Log       Log        `yaml:"log" doc:"logging"`
	Model     Model      `yaml:"model" doc:"the encoder exported by trainer export, and how ONNX Runtime runs it"`
	Batch     Batch      `yaml:"batch" doc:"dynamic batching of frames into inference runs"`
	Preproc   Preprocess `yaml:"preprocess" doc:"decoding and preprocessing of frames"`
	Sources   []Source   `yaml:"sources" doc:"cameras and other frame sources; each runs in its own goroutine"`
	Queue     Queue      `yaml:"queue" doc:"the key queue of embeddings kept for retrieval and labelling"`
	Retrieval Retrieval  `yaml:"retrieval" doc:"top-k retrieval over the key queue"`
	HTTP      HTTP       `yaml:"http" doc:"the local HTTP API (health, metrics, query, reload)"`
	MQTT      MQTT       `yaml:"mqtt" doc:"reports and commands over MQTT"`
	Probe     Probe      `yaml:"probe" doc:"the linear probe learned on the device from labelled frames"`
	Bridge    BridgeLink `yaml:"bridge" doc:"the firmware board on a serial port, run inside the daemon"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level" doc:"debug, info, warn or error"`
	Format string `yaml:"format" doc:"text or json"`
}

// Model names the encoder and configures ONNX Runtime.
type Model struct {
	Path       string   `yaml:"path" doc:"the ONNX file; its manifest NAME.manifest.json must lie beside it"`
	Dir        string   `yaml:"dir" doc:"the only folder reload commands may load models from (default: the folder of path)"`
	Library    string   `yaml:"ort_library" doc:"path of libonnxruntime.so (default: MOCOEDGE_ORT_LIB, then third_party/onnxruntime, then the system's)"`
	Providers  []string `yaml:"providers" doc:"execution providers to try, in order: tensorrt, cuda, cpu"`
	TensorRT   TensorRT `yaml:"tensorrt" doc:"TensorRT execution provider options"`
	CUDADevice int      `yaml:"cuda_device" doc:"GPU used by the CUDA and TensorRT providers"`
	Threads    int      `yaml:"threads" doc:"ONNX Runtime intra-op threads on the CPU (0: one per physical core)"`
}

// TensorRT holds the TensorRT execution provider's options.
type TensorRT struct {
	FP16        bool   `yaml:"fp16" doc:"let TensorRT run layers in half precision"`
	CacheDir    string `yaml:"cache_dir" doc:"engine cache root, one folder per model sha256 (default: DATA_DIR/trt-cache; off disables the cache)"`
	TimingCache bool   `yaml:"timing_cache" doc:"keep TensorRT's layer timing cache, shared by all models"`
	WorkspaceMB int    `yaml:"workspace_mb" doc:"builder scratch memory in MiB"`
}

// Batch configures the dynamic batcher.
type Batch struct {
	Max     int      `yaml:"max" doc:"largest batch of frames run at once"`
	MaxWait Duration `yaml:"max_wait" doc:"longest wait for a batch to fill after its first frame arrived"`
	Queue   int      `yaml:"queue" doc:"frames that may wait for inference; beyond it frames are dropped and counted"`
	Runners int      `yaml:"runners" doc:"batches run at once, each with model.threads/runners CPU threads; 2 suits small models on 2+ cores"`
}

// Preprocess configures decoding and preprocessing.
type Preprocess struct {
	Workers   int    `yaml:"workers" doc:"goroutines decoding and preprocessing frames (0: one per core)"`
	TurboJPEG string `yaml:"turbojpeg" doc:"decode JPEG with libjpeg-turbo: auto (when libturbojpeg.so.0 is present), on, off, or a library path"`
	MaxPixels int    `yaml:"max_pixels" doc:"largest image accepted, in pixels; bigger ones are refused before decoding"`
}

// Source is one frame source.
type Source struct {
	Name     string   `yaml:"name" doc:"unique name, reported with every frame (letters, digits, - and _)"`
	Kind     string   `yaml:"kind" doc:"files, watch, ffmpeg, gstreamer, mjpeg or bridge"`
	Path     string   `yaml:"path" doc:"files: an image, a folder or a glob; watch: a folder whose new files are read"`
	Input    string   `yaml:"input" doc:"ffmpeg: a video file, /dev/videoN or an rtsp:// URL"`
	Pipeline string   `yaml:"pipeline" doc:"gstreamer: the gst-launch-1.0 pipeline up to (not including) the sink"`
	URL      string   `yaml:"url" doc:"mjpeg: the http:// or https:// URL of a multipart MJPEG stream"`
	Width    int      `yaml:"width" doc:"ffmpeg and gstreamer: frame width the process scales to"`
	Height   int      `yaml:"height" doc:"ffmpeg and gstreamer: frame height the process scales to"`
	FPS      float64  `yaml:"fps" doc:"frame-rate cap (0: no cap)"`
	Interval Duration `yaml:"interval" doc:"keep one frame per interval (0: every frame)"`
	Loop     bool     `yaml:"loop" doc:"files and ffmpeg files: start again at the end"`
	Buffer   int      `yaml:"buffer" doc:"frames waiting for the pipeline; when full the oldest is dropped and counted"`
	Command  string   `yaml:"command" doc:"ffmpeg and gstreamer: the binary to run, a path or a name looked up on PATH"`
	Args     []string `yaml:"args" doc:"ffmpeg: extra arguments placed before -i (e.g. -rtsp_transport tcp)"`
}

// Queue configures the key queue.
type Queue struct {
	Capacity         int      `yaml:"capacity" doc:"entries kept; the oldest is evicted beyond it"`
	SyncEvery        int      `yaml:"sync_every" doc:"fsync in the background once this many entries are unsynced (a power cut loses fewer than twice this many; 1: fsync every entry before it counts)"`
	SyncInterval     Duration `yaml:"sync_interval" doc:"also fsync at least this often (a power cut loses at most this much time of entries)"`
	ThumbnailSize    int      `yaml:"thumbnail_size" doc:"longest side of the JPEG thumbnail kept with each entry, in pixels (0: no thumbnails)"`
	ThumbnailQuality int      `yaml:"thumbnail_quality" doc:"JPEG quality of thumbnails, 1 to 100"`
	EveryFrame       bool     `yaml:"every_frame" doc:"append every embedded frame (false: only snapshots, triggers and labelled frames)"`
}

// Retrieval configures top-k search.
type Retrieval struct {
	K    int `yaml:"k" doc:"results per query when the request does not say"`
	MaxK int `yaml:"max_k" doc:"largest k a request may ask for"`
}

// HTTP configures the local API.
type HTTP struct {
	Addr           string `yaml:"addr" doc:"listen address; empty disables the API"`
	MaxUploadBytes int64  `yaml:"max_upload_bytes" doc:"largest image accepted by POST /v1/query"`
}

// MQTT configures the MQTT client, its outbox and reports.
type MQTT struct {
	Broker            string      `yaml:"broker" doc:"embedded (run a broker inside the daemon), off, or broker URLs separated by commas (tcp://, ssl://, ws://, wss://, mqtt://, mqtts://)"`
	EmbeddedAddr      string      `yaml:"embedded_addr" doc:"listen address of the embedded broker; beyond loopback it requires username and password"`
	Username          string      `yaml:"username" doc:"user name for the broker"`
	Password          string      `yaml:"password" doc:"password for the broker (prefer MOCOEDGE_MQTT_PASSWORD)"`
	TLS               TLS         `yaml:"tls" doc:"TLS for ssl://, wss:// and mqtts:// brokers"`
	TopicPrefix       string      `yaml:"topic_prefix" doc:"topics are PREFIX/DEVICE_ID/..."`
	TelemetryInterval Duration    `yaml:"telemetry_interval" doc:"how often telemetry is published"`
	Outbox            Outbox      `yaml:"outbox" doc:"reports kept while the broker is unreachable"`
	Predictions       Predictions `yaml:"predictions" doc:"events/prediction reports"`
	MaxPayloadBytes   int         `yaml:"max_payload_bytes" doc:"largest command payload accepted"`
	HomeAssistant     HomeAssist  `yaml:"home_assistant" doc:"Home Assistant MQTT discovery"`
}

// TLS holds the client's TLS files.
type TLS struct {
	CA                 string `yaml:"ca" doc:"PEM file of the CA that signed the broker's certificate"`
	Cert               string `yaml:"cert" doc:"PEM client certificate, for brokers that require one"`
	Key                string `yaml:"key" doc:"PEM key of the client certificate"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify" doc:"accept any broker certificate (testing only)"`
}

// Outbox bounds the persisted outbox.
type Outbox struct {
	MaxMessages int      `yaml:"max_messages" doc:"messages kept; beyond it the oldest telemetry is dropped first, events last"`
	MaxAge      Duration `yaml:"max_age" doc:"messages older than this are dropped and counted"`
}

// Predictions configures events/prediction.
type Predictions struct {
	MinInterval Duration `yaml:"min_interval" doc:"at most one prediction event per source per interval"`
	OnChange    bool     `yaml:"on_change" doc:"publish only when a source's predicted label changes"`
}

// HomeAssist configures Home Assistant MQTT discovery.
type HomeAssist struct {
	Enabled bool   `yaml:"enabled" doc:"publish discovery configs for a label sensor per source, availability and a train button"`
	Prefix  string `yaml:"prefix" doc:"Home Assistant's discovery prefix"`
}

// Probe configures the on-device linear probe.
type Probe struct {
	L2          float64 `yaml:"l2" doc:"L2 regularisation strength of the logistic regression"`
	Unknown     float64 `yaml:"unknown_below" doc:"predictions whose calibrated score is below this are reported as unknown"`
	AutoTrain   int     `yaml:"auto_train_after" doc:"train again after this many new labels (0: only when asked)"`
	Folds       int     `yaml:"folds" doc:"folds of the held-out accuracy estimate when labels are few"`
	MinPerClass int     `yaml:"min_per_class" doc:"labels each class needs before the probe trains"`
	MaxEpochs   int     `yaml:"max_epochs" doc:"upper bound on optimiser passes over the labels"`
}

// BridgeLink configures the firmware board run inside the daemon.
type BridgeLink struct {
	Enabled  bool              `yaml:"enabled" doc:"run the firmware bridge inside the daemon"`
	Port     string            `yaml:"port" doc:"serial port path, or usb:VID:PID[:SERIAL]"`
	Baud     int               `yaml:"baud" doc:"serial speed"`
	Snapshot string            `yaml:"snapshot" doc:"source a TRIGGER snapshots (empty: the board's own camera frame)"`
	Buttons  map[string]string `yaml:"buttons" doc:"button id to label for short presses (a long press trains the probe)"`
	LEDs     map[string]int    `yaml:"leds" doc:"predicted label to LED id lit when that label is predicted"`
}
