package testkit

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// MetricsListening is what linkbff logs when it serves /metrics.
const MetricsListening = "metrics listening"

// MetricsURL is the /metrics URL of the listener linkbff logged (with
// METRICS_ADDR set), failing the test when it logged none.
func (s *Server) MetricsURL() string {
	s.T.Helper()
	for _, line := range s.Logs.Lines() {
		var entry struct{ Message, Addr string }
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Message == MetricsListening && entry.Addr != "" {
			return "http://" + entry.Addr + "/metrics"
		}
	}
	s.T.Fatalf("linkbff logged no %q line\n%s", MetricsListening, s.Logs)
	return ""
}

// Metrics is one scrape of a Prometheus endpoint.
type Metrics map[string]*dto.MetricFamily

// Scrape reads url's metrics in Prometheus's text format.
func (c *Client) Scrape(url string) Metrics {
	c.T.Helper()
	r := c.Do(http.MethodGet, url, nil)
	if r.Status != http.StatusOK {
		c.T.Fatalf("scrape %s: %d %s", url, r.Status, r.Body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(r.Body)))
	if err != nil {
		c.T.Fatalf("scrape %s: %v", url, err)
	}
	return families
}

// Value sums the samples of name whose labels include labels: a counter's
// or gauge's value, a histogram's count.
func (m Metrics) Value(name string, labels map[string]string) float64 {
	var sum float64
	for _, s := range m[name].GetMetric() {
		if !maps.Equal(labels, pick(s.GetLabel(), labels)) {
			continue
		}
		switch {
		case s.Counter != nil:
			sum += s.Counter.GetValue()
		case s.Gauge != nil:
			sum += s.Gauge.GetValue()
		case s.Histogram != nil:
			sum += float64(s.Histogram.GetSampleCount())
		}
	}
	return sum
}

// Labels lists every label of every sample as name=value.
func (m Metrics) Labels() []string {
	var out []string
	for _, f := range m {
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				out = append(out, l.GetName()+"="+l.GetValue())
			}
		}
	}
	return out
}

// pick is the subset of pairs whose names are in want.
func pick(pairs []*dto.LabelPair, want map[string]string) map[string]string {
	out := map[string]string{}
	for _, p := range pairs {
		if _, ok := want[p.GetName()]; ok {
			out[p.GetName()] = p.GetValue()
		}
	}
	return out
}
