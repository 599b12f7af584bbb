package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// The Grafana dashboard in deploy/ asks only for metrics linkbff exports,
// so renaming one without the dashboard fails here.
func TestDashboardQueriesExistingMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/grafana/linkbff.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	descs := make(chan *prometheus.Desc, 100)
	for _, c := range New().own() {
		c.Describe(descs)
	}
	close(descs)
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		exported[fqName.FindStringSubmatch(d.String())[1]] = true
	}
	used := regexp.MustCompile(`linkbff_[a-z_]+`)
	queries := 0
	for _, p := range dash.Panels {
		for _, target := range p.Targets {
			queries++
			for _, name := range used.FindAllString(target.Expr, -1) {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if base := strings.TrimSuffix(name, suffix); base != name && exported[base] {
						name = base
					}
				}
				if !exported[name] {
					t.Errorf("panel %q queries %s, which linkbff does not export", p.Title, name)
				}
			}
		}
	}
	if queries < 10 {
		t.Fatalf("the dashboard has only %d queries", queries)
	}
}
