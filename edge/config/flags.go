package config

import (
	"flag"
	"reflect"
	"strings"
)

// RegisterFlags adds one flag per key that has a variable, named by its
// dotted key (--model.path, --http.addr, --model.providers=cuda,cpu), which
// writes into c when fs is parsed. A flag's usage is the key's description
// and variable; its default is c's value at registration, so register
// after Load to show the effective values in --help.
//
// The usual flow, flags overriding the file and the environment:
//
//	cfg, err := config.Load(file, os.LookupEnv)
//	cfg.RegisterFlags(fs)
//	err = fs.Parse(args)
//	err = cfg.Validate()
//
// LoadWithFlags does all of it, finding --config FILE first.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	root := reflect.ValueOf(c).Elem()
	for _, f := range fields() {
		if name := f.env(); name != "" {
			fs.Var(leafFlag{root.FieldByIndex(f.index)}, f.key, f.doc+" (env "+name+")")
		}
	}
}

// leafFlag is a flag.Value over one key of a Config.
type leafFlag struct{ v reflect.Value }

// String formats the key's value (the zero leafFlag, which the flag
// package makes to find zero defaults, formats as "").
func (l leafFlag) String() string {
	if !l.v.IsValid() {
		return ""
	}
	return formatValue(l.v)
}

// Set parses s into the key, as its variable would be.
func (l leafFlag) Set(s string) error { return setFromString(l.v, s) }

// IsBoolFlag lets boolean keys be given as --key alone.
func (l leafFlag) IsBoolFlag() bool { return l.v.IsValid() && l.v.Kind() == reflect.Bool }

// LoadWithFlags is the start-up of a command: it takes the file named by
// --config FILE in args (else by MOCOEDGE_CONFIG, else none), loads it with
// the environment (see Load), registers the flags of every key on fs (see
// RegisterFlags) plus --config itself, parses args and validates. So the
// precedence is defaults < file < environment < flags. fs.Args() holds the
// arguments left after the flags; a --help returns flag.ErrHelp.
func LoadWithFlags(fs *flag.FlagSet, args []string, env func(string) (string, bool)) (Config, error) {
	path := configPath(args, env)
	c, err := load(path, env)
	if err != nil {
		return Config{}, err
	}
	fs.String("config", path, "YAML configuration file (env "+EnvConfig+")")
	c.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// configPath finds the value of -config or --config in args (before a
// "--"), else MOCOEDGE_CONFIG in env.
func configPath(args []string, env func(string) (string, bool)) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	if env != nil {
		if path, ok := env(EnvConfig); ok {
			return path
		}
	}
	return ""
}
