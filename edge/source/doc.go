// Package source runs the edge daemon's frame sources: image files and
// folders, a watched folder, video through an ffmpeg or gst-launch-1.0
// subprocess, HTTP MJPEG streams, and frames entered by the firmware bridge.
//
// # Mailboxes
//
// A Hub owns every configured source. Each source runs in a goroutine of
// its own (bridge sources have none: their frames come through Push) and
// puts each frame into its own bounded mailbox of config buffer frames. A
// source never blocks on the pipeline: when its mailbox is full the oldest
// frame in it is dropped and counted (Stats.Dropped), so the pipeline always
// sees the freshest frames of a camera it cannot keep up with, and one slow
// or bursty source never holds up another. The pipeline takes frames with
// Next, which visits the mailboxes round robin, one frame per source per
// turn, so a fast camera cannot starve a slow one.
//
// Every frame a source captures gets the next sequence number (Frame.Seq,
// from 1), is counted in Stats.Frames and becomes the source's Latest frame
// (what snapshots use), whether or not it reaches the pipeline. Before the
// mailbox, a live source's frame-rate cap (fps) and sampling interval skip
// frames (Stats.Skipped): a frame is kept when at least the longer of 1/fps
// and interval has passed since the last kept one, with a tolerance of half
// a frame gap so that camera jitter does not halve the rate. A gap in the
// sequence numbers the pipeline sees is therefore a skipped or dropped
// frame. Files sources are not live: they are paced instead (the next file
// is read when its slot comes and the mailbox has room), so no file is
// skipped or dropped: a folder is indexed completely at the pipeline's
// speed.
//
// # Restart policy
//
// A source that fails (a subprocess that exits or cannot start, a stream
// that breaks or stalls, a watched folder that is missing, a files path
// that names no image yet) logs the reason,
// counts an error and a restart, and starts again after an exponential
// back-off: the delay doubles from the minimum up to the maximum (see
// WithBackoff), with a little jitter, and starts over from the minimum after
// a healthy run (one that delivered frames for at least WithHealthyRun).
// A source that is simply done ends without error and shows StateFinished:
// a files source without loop after its last file, an ffmpeg source whose
// input is a regular file without loop when ffmpeg exits normally at its
// end, a gstreamer source whose pipeline reads a file likewise. Run returns
// when its context ends, or earlier when every source is done and no bridge
// source could still receive frames; Next then returns ErrEnded once the
// mailboxes are empty.
//
// # Kinds
//
// files reads an image file, a folder (recursively, in lexical order, .jpg,
// .jpeg and .png files, hidden names left out) or a glob, listing again at
// every pass when loop is set. Files over WithMaxFileBytes and files that
// cannot be read are counted as errors and passed over. Bytes are passed on
// undecoded (an empty or truncated file too): decoding is the pipeline's
// job. Frame.Time is the time a file was read.
//
// watch emits each image file that appears in a folder (created or moved
// in) once it is complete. fsnotify v1.10.1 does not export inotify's
// close-write event, and a close-write alone would not suffice either (a
// writer may open and close a file several times), so a file is taken as
// complete when no write event arrived and its size and modification time
// stayed unchanged for the settle time (WithSettle, default 1 s). A writer
// that pauses longer than that mid-file should write under another name
// (a hidden name, or one without an image extension such as x.jpg.part) and
// rename the file into place, which is emitted after the settle time. The
// folder is not watched recursively; files present at start are ignored.
//
// ffmpeg and gstreamer share one raw-video subprocess runner: the process
// scales to width x height and writes packed RGB24 frames to its standard
// output, which is read frame by frame. Its standard error's tail and exit
// status are logged when it ends; it is killed (SIGKILL) and waited for when
// the context ends, or when it delivers no frame for WithStallTimeout.
//
// mjpeg reads a multipart/x-mixed-replace HTTP stream part by part with
// mime/multipart (parts need no Content-Length), bounded by
// WithMaxPartBytes; the boundary is taken from the first boundary line of
// the body when the Content-Type's does not match it, as some cameras
// declare it with its leading dashes.
package source
