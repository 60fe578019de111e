package config

import (
	"os"
	"regexp"
	"testing"
)

// TestDocExamples loads the examples of docs/configuration.md, so that the
// reference cannot drift from the loader.
func TestDocExamples(t *testing.T) {
	clearEnv(t)
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) != 4 {
		t.Fatalf("found %d yaml examples in the doc, want 4 (operators, register trunk, IP trunk, tenant)", len(blocks))
	}
	operators, register, ip, tenant := blocks[0][1], blocks[1][1], blocks[2][1], blocks[3][1]
	// The register trunk and the tenant refer to each other; the
	// operators serve the tenant.
	for name, y := range map[string]string{"register trunk + tenant": register + tenant, "ip trunk": ip, "operators": register + tenant + operators} {
		if _, err := LoadBytes(name, []byte(y)); err != nil {
			t.Errorf("example %s does not load:\n%v", name, err)
		}
	}
}
