package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestExampleTenants loads docs/examples: the main file with the three
// tenant files beside it, so that the dialplan guide cannot rot.
func TestExampleTenants(t *testing.T) {
	clearEnv(t)
	const dir = "../docs/examples"
	mainName := filepath.Join(dir, "centralino.yaml")
	mainData, err := os.ReadFile(mainName)
	if err != nil {
		t.Fatal(err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var files []source
	for _, name := range names {
		if name == mainName {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), "# ") {
			t.Errorf("%s does not start with a comment saying what it demonstrates", name)
		}
		files = append(files, source{name: name, data: data})
	}
	m, fatal := parseMain(source{name: mainName, data: mainData}, nil)
	if len(fatal) > 0 {
		t.Fatalf("%s: %v", mainName, joinErrors(fatal))
	}
	cfg, errs := assemble(m, files, osFS{})
	if len(errs) > 0 {
		t.Fatalf("examples do not load:\n%v", errs.join(nil))
	}
	var ids []string
	for _, tn := range cfg.Tenants {
		ids = append(ids, tn.ID)
	}
	if want := []string{"poliambulatorio", "studio-commercialista", "studio-legale-rossi"}; !slices.Equal(ids, want) {
		t.Errorf("example tenants = %v, want %v", ids, want)
	}
	// Files the examples name are resolved next to them.
	cal := cfg.Tenant("studio-legale-rossi").People[0].Calendar
	if _, err := os.Stat(cal); err != nil || !filepath.IsAbs(cal) {
		t.Errorf("rossi's calendar %q: %v", cal, err)
	}
}
