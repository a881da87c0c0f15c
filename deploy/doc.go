// Package deploy holds no Go code: the folder is mocoedge's deployment kit
// (Jetson installer, systemd units, Mosquitto configuration, dashboards,
// Dockerfiles and the helper scripts), and this package's tests check it:
// shellcheck on every script, systemd-analyze verify on the units, the ACL
// against a real Mosquitto broker, the dashboards' topics against the MQTT
// contract, and the installer in --dry-run and into a scratch root.
// See deploy/README.md.
package deploy
