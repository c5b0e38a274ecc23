package monitor

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
	"time"
)

// node is a generic XML element, enough to walk the SVG.
type node struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Nodes   []node     `xml:",any"`
	Text    string     `xml:",chardata"`
}

func (n node) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// find returns the descendants of n (n included) named name with class class ("" for any).
func (n node) find(name, class string) []node {
	var out []node
	if n.XMLName.Local == name && (class == "" || n.attr("class") == class) {
		out = append(out, n)
	}
	for _, c := range n.Nodes {
		out = append(out, c.find(name, class)...)
	}
	return out
}

func parseSVG(t *testing.T, data []byte) node {
	t.Helper()
	// A token walk first: it reports the first well-formedness error precisely.
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("SVG is not well-formed: %v\n%s", err, data)
		}
	}
	var root node
	if err := xml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	if root.XMLName.Local != "svg" || root.XMLName.Space != "http://www.w3.org/2000/svg" {
		t.Fatalf("root element %v", root.XMLName)
	}
	return root
}

func TestSVG(t *testing.T) {
	recs := history()
	odd := success("a<b&c", 0, 1, 1, 1, 1, 1) // invalid OS: skipped like every invalid record
	weird := success("zz-1", 2, 1, 2, 3, 4, 5)
	weird.Stages[0].Name = `fetch "<&>"`
	recs = append(recs, odd, weird)
	data := SVG(recs, 800, 0)
	root := parseSVG(t, data)

	if w := root.attr("width"); w != "800" {
		t.Errorf("width %q", w)
	}
	if got := root.find("title", ""); len(got) == 0 || got[0].Text != "cloudstack-templates: stage duration per build" {
		t.Errorf("no chart title")
	}
	panels := root.find("g", "panel")
	var oses []string
	for _, p := range panels {
		oses = append(oses, p.attr("data-os"))
	}
	if strings.Join(oses, " ") != "alma-9 debian-12 zz-1" {
		t.Fatalf("panels %v, want one per valid OS, sorted", oses)
	}
	// Points per stage and OS: successful runs only (debian's failed packer run is left out; the
	// record from 30 days earlier is in, as the chart has no window).
	want := map[string]map[string]int{
		"alma-9":    {"fetch": 2, "packer": 2, "convert": 2, "scan": 2},
		"debian-12": {"fetch": 5, "packer": 4, "convert": 4, "scan": 4},
		"zz-1":      {`fetch "<&>"`: 1, "packer": 1, "convert": 1, "scan": 1},
	}
	for _, p := range panels {
		osID := p.attr("data-os")
		lines := p.find("polyline", "series")
		if len(lines) != len(want[osID]) {
			t.Errorf("%s: %d series, want %d", osID, len(lines), len(want[osID]))
		}
		for _, l := range lines {
			stage := l.attr("data-stage")
			pts := strings.Fields(l.attr("points"))
			if len(pts) != want[osID][stage] {
				t.Errorf("%s/%s: %d points, want %d", osID, stage, len(pts), want[osID][stage])
			}
			prevX := -1.0
			for _, pt := range pts {
				xy := strings.Split(pt, ",")
				x, err1 := strconv.ParseFloat(xy[0], 64)
				y, err2 := strconv.ParseFloat(xy[1], 64)
				if len(xy) != 2 || err1 != nil || err2 != nil || x < 0 || x > 800 || y < 0 {
					t.Errorf("%s/%s: bad point %q", osID, stage, pt)
				}
				if x < prevX {
					t.Errorf("%s/%s: points not in time order", osID, stage)
				}
				prevX = x
			}
		}
		if n := len(p.find("g", "axis x")[0].find("text", "")); n < 2 {
			t.Errorf("%s: %d date ticks, want at least 2", osID, n)
		}
		if n := len(p.find("g", "axis y")[0].find("text", "")); n < 3 {
			t.Errorf("%s: %d value ticks (with the unit label), want at least 3", osID, n)
		}
	}
	if n := len(panels[1].find("line", "failure")); n != 1 {
		t.Errorf("debian panel marks %d failures, want 1", n)
	}
	legend := root.find("g", "legend-item")
	var names []string
	for _, l := range legend {
		names = append(names, l.attr("data-stage"))
	}
	if strings.Join(names, "|") != `fetch|packer|convert|scan|fetch "<&>"` {
		t.Errorf("legend %q", names)
	}
	// Dates on the time axis.
	ticks := panels[0].find("g", "axis x")[0].find("text", "")
	if _, err := time.Parse("2006-01-02", ticks[0].Text); err != nil {
		t.Errorf("time tick %q is not a date", ticks[0].Text)
	}
	if !bytes.Contains(data, []byte(`data-stage="fetch &#34;&lt;&amp;&gt;&#34;"`)) {
		t.Error("stage name not escaped in attributes")
	}
	if !bytes.Equal(SVG(recs, 800, 0), data) {
		t.Error("SVG output is not deterministic")
	}
}

func TestSVGEdgeCases(t *testing.T) {
	tests := []struct {
		name          string
		records       []Record
		width, height int
		panels        int
	}{
		{"no records", nil, 0, 0, 0},
		{"single build", []Record{success("debian-12", 0, 1, 2, 3, 4, 5)}, 0, 0, 1},
		{"only a failure", []Record{failure("debian-12", 0, "x")}, 100, 50, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := parseSVG(t, SVG(tc.records, tc.width, tc.height))
			if n := len(root.find("g", "panel")); n != tc.panels {
				t.Fatalf("%d panels, want %d", n, tc.panels)
			}
			w, _ := strconv.Atoi(root.attr("width"))
			h, _ := strconv.Atoi(root.attr("height"))
			if w < minChartWidth || h < minPanelHeight {
				t.Errorf("size %dx%d below the minimum", w, h)
			}
		})
	}
}

func TestNiceScale(t *testing.T) {
	tests := []struct{ max, step, top float64 }{
		{0, 1, 1}, {7, 2, 8}, {30.5, 10, 40}, {100, 50, 100}, {0.9, 0.5, 1},
	}
	for _, tc := range tests {
		step, top := niceScale(tc.max, 4)
		if step != tc.step || top != tc.top {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", tc.max, step, top, tc.step, tc.top)
		}
	}
}

func TestTimeTicks(t *testing.T) {
	from := time.Date(2024, 11, 1, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		to     time.Time
		max    int
		first  string
		n      int
		layout string
	}{
		{"days", from.Add(4 * 24 * time.Hour), 4, "2024-11-02T00:00:00Z", 4, "2006-01-02"},
		{"half days", from.Add(4 * 24 * time.Hour), 8, "2024-11-01T12:00:00Z", 8, "01-02 15:04"},
		{"months", from.Add(300 * 24 * time.Hour), 8, "", 0, "2006-01-02"},
	}
	for _, tc := range tests {
		ticks, layout := timeTicks(from, tc.to, tc.max)
		if layout != tc.layout || len(ticks) > tc.max+1 || len(ticks) == 0 {
			t.Errorf("%s: %d ticks, layout %q", tc.name, len(ticks), layout)
			continue
		}
		if tc.first != "" && (ticks[0].Format(time.RFC3339) != tc.first || len(ticks) != tc.n) {
			t.Errorf("%s: first tick %s of %d, want %s of %d", tc.name, ticks[0].Format(time.RFC3339), len(ticks), tc.first, tc.n)
		}
		for _, tk := range ticks {
			if tk.Before(from) || tk.After(tc.to) {
				t.Errorf("%s: tick %s outside the range", tc.name, tk)
			}
		}
	}
}

func TestSVGManyStages(t *testing.T) {
	// More stages than colours, with long names: the legend wraps and repeated colours get dashes.
	r := success("debian-12", 0, 1, 1, 1, 1, 1)
	r.Stages = nil
	for i := 0; i < 12; i++ {
		r.Stages = append(r.Stages, Stage{Name: "stage-with-a-long-name-" + strconv.Itoa(i), Seconds: 3 * 3600, Outcome: OutcomeSuccess})
	}
	r.FinishedAt = r.StartedAt.Add(36 * time.Hour)
	data := SVG([]Record{r}, 400, 0)
	root := parseSVG(t, data)
	rows := map[string]bool{}
	for _, it := range root.find("g", "legend-item") {
		rows[it.Nodes[0].attr("y1")] = true
	}
	if len(rows) < 2 {
		t.Errorf("legend of 12 long names in 400 units did not wrap: %d rows", len(rows))
	}
	dashed := 0
	for _, l := range root.find("polyline", "series") {
		if l.attr("stroke-dasharray") != "" {
			dashed++
		}
	}
	if dashed != 2 {
		t.Errorf("%d dashed series, want 2 (the 11th and 12th stage)", dashed)
	}
	if !bytes.Contains(data, []byte(">hours</text>")) {
		t.Error("3-hour stages should be charted in hours")
	}
}

func TestAxisHelpers(t *testing.T) {
	units := []struct {
		max  float64
		name string
	}{{59, "seconds"}, {600, "minutes"}, {7200, "hours"}}
	for _, tc := range units {
		if name, _ := durationUnit(tc.max); name != tc.name {
			t.Errorf("durationUnit(%v) = %s, want %s", tc.max, name, tc.name)
		}
	}
	decimals := []struct {
		step float64
		want int
	}{{5, 0}, {1, 0}, {0.5, 1}, {0.25, 2}, {0.01, 2}}
	for _, tc := range decimals {
		if got := stepDecimals(tc.step); got != tc.want {
			t.Errorf("stepDecimals(%v) = %d, want %d", tc.step, got, tc.want)
		}
	}
}
