// Package config is the edge daemon's configuration: one schema (Config,
// whose fields carry each key's yaml name and description) from which the
// YAML file format, the MOCOEDGE_* environment variables, the command-line
// flags, the commented default file and the reference in docs/config.md
// all derive.
//
// Settings are applied in layers, each overriding the one before:
// Default() < the YAML file < environment variables < flags. Load reads
// the first three, RegisterFlags adds the flags, Validate resolves derived
// defaults and checks everything; LoadWithFlags does the whole flow.
package config
