package config

import (
	"os"
	"reflect"
	"regexp"
	"testing"
)

// TestTags: every field of every struct reachable from Config has a yaml
// key (lower snake case, unique in its struct) and a doc tag.
func TestTags(t *testing.T) {
	key := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	seen := map[reflect.Type]bool{}
	var visit func(t0 reflect.Type)
	visit = func(st reflect.Type) {
		if seen[st] {
			return
		}
		seen[st] = true
		names := map[string]bool{}
		for i := range st.NumField() {
			sf := st.Field(i)
			name, doc := sf.Tag.Get("yaml"), sf.Tag.Get("doc")
			switch {
			case !key.MatchString(name):
				t.Errorf("%s.%s: yaml tag %q is not a lower snake case key", st.Name(), sf.Name, name)
			case names[name]:
				t.Errorf("%s.%s: yaml key %q used twice", st.Name(), sf.Name, name)
			}
			names[name] = true
			if doc == "" {
				t.Errorf("%s.%s: no doc tag", st.Name(), sf.Name)
			}
			ft := sf.Type
			if ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if isSection(ft) {
				visit(ft)
			}
		}
	}
	visit(reflect.TypeFor[Config]())
	if len(seen) < 10 {
		t.Fatalf("visited only %d structs", len(seen))
	}
}

// TestEnvNames: variables are unique, and none is one of the MOCOEDGE_*
// variables other parts of the project read for other purposes.
func TestEnvNames(t *testing.T) {
	reserved := map[string]bool{}
	for _, name := range []string{"ORT_LIB", "CIFAR10", "BENCH_REPORT", "CUDA_LIBS", "BLAS",
		"OPENBLAS_LIB", "THREADS", "CONFIG"} {
		reserved[EnvPrefix+name] = true
	}
	seen := map[string]string{}
	leaves := 0
	for _, f := range fields() {
		name := f.env()
		if name == "" {
			continue
		}
		leaves++
		if reserved[name] {
			t.Errorf("%s: variable %s is reserved for another purpose", f.key, name)
		}
		if other, dup := seen[name]; dup {
			t.Errorf("%s and %s share the variable %s", f.key, other, name)
		}
		seen[name] = f.key
	}
	if leaves < 50 {
		t.Errorf("only %d keys have variables", leaves)
	}
	if got := envName("model.tensorrt.fp16"); got != "MOCOEDGE_MODEL_TENSORRT_FP16" {
		t.Errorf("envName = %s", got)
	}
}

// TestLeafTypes: every key with a variable formats and parses back to the
// same value (so no field has a type the env/flag parser does not know).
func TestLeafTypes(t *testing.T) {
	d := Default()
	root := reflect.ValueOf(&d).Elem()
	for _, f := range fields() {
		if f.env() == "" {
			continue
		}
		v := root.FieldByIndex(f.index)
		copy := reflect.New(v.Type()).Elem()
		if err := setFromString(copy, formatValue(v)); err != nil {
			t.Errorf("%s: %v", f.key, err)
		} else if !reflect.DeepEqual(copy.Interface(), v.Interface()) {
			t.Errorf("%s: %v became %v", f.key, v, copy)
		}
	}
}

// TestReferenceUpToDate: docs/config.md is what Reference generates.
func TestReferenceUpToDate(t *testing.T) {
	got, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatalf("%v (run: go generate ./edge/config)", err)
	}
	if string(got) != Reference() {
		t.Fatal("docs/config.md is out of date: run go generate ./edge/config " +
			"(or: go run ./edge/config/internal/genref docs/config.md)")
	}
	for _, f := range fields() {
		if !regexp.MustCompile("`" + regexp.QuoteMeta(f.key) + "`").Match(got) {
			t.Errorf("reference lacks %s", f.key)
		}
	}
}
