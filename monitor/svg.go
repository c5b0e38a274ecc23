package monitor

import (
	"encoding/xml"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Chart geometry, in SVG user units (pixels at 100%).
const (
	defaultChartWidth  = 900
	defaultPanelHeight = 220
	minChartWidth      = 320
	minPanelHeight     = 120
	chartMarginLeft    = 64
	chartMarginRight   = 40
	panelTitleHeight   = 22
	panelAxisHeight    = 30
	legendRowHeight    = 18
)

// palette is Tableau 10: distinguishable, and readable for the common colour-vision deficiencies.
var palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

// SVG draws a self-contained line chart of stage durations over time: one panel per OS (sorted by
// OS id, stacked), one line per stage through its successful runs (a failed run is cut short and
// would read as a speed-up), and a red dashed line at each failed build. All panels share the time
// axis so builds line up. width and height are the whole image; zero or negative picks a default,
// and each panel gets at least 120 units of height. Records that fail Validate are skipped. The
// output depends only on the input (no map order, no clock), so it can be compared byte for byte.
func SVG(records []Record, width, height int) []byte {
	recs, _ := validRecords(records)
	sortRecords(recs)

	byOS := map[string][]Record{}
	var oses []string
	var stageNames []string
	stageIndex := map[string]int{}
	for _, r := range recs {
		if _, ok := byOS[r.OS]; !ok {
			oses = append(oses, r.OS)
		}
		byOS[r.OS] = append(byOS[r.OS], r)
		for _, s := range mergedStages(r) {
			if _, ok := stageIndex[s.Name]; !ok {
				stageIndex[s.Name] = len(stageNames)
				stageNames = append(stageNames, s.Name)
			}
		}
	}
	sort.Strings(oses)

	if width <= 0 {
		width = defaultChartWidth
	}
	width = max(width, minChartWidth)
	legendRows := legendLayout(stageNames, width)
	header := 44 + legendRowHeight*len(legendRows) + 6
	panels := max(len(oses), 1)
	if height <= 0 {
		height = header + panels*defaultPanelHeight
	}
	panelH := max((height-header)/panels, minPanelHeight)
	height = max(height, header+panels*panelH)

	var b strings.Builder
	title := "cloudstack-templates: stage duration per build"
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text class="title" x="%d" y="24" font-size="16" font-weight="bold">%s</text>`+"\n", chartMarginLeft, esc(title))

	b.WriteString(`<g class="legend">` + "\n")
	for row, items := range legendRows {
		y := 44 + row*legendRowHeight
		for _, it := range items {
			i := stageIndex[it.name]
			fmt.Fprintf(&b, `<g class="legend-item" data-stage="%s"><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/><text x="%d" y="%d">%s</text></g>`+"\n",
				esc(it.name), it.x, y-4, it.x+16, y-4, stageColor(i), stageDash(i), it.x+20, y, esc(it.name))
		}
	}
	b.WriteString("</g>\n")

	if len(oses) == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%d" y="%d">no builds</text>`+"\n", chartMarginLeft, header+panelH/2)
		b.WriteString("</svg>\n")
		return []byte(b.String())
	}

	tMin, tMax := recs[0].StartedAt, recs[0].StartedAt
	for _, r := range recs {
		if r.StartedAt.Before(tMin) {
			tMin = r.StartedAt
		}
		if r.StartedAt.After(tMax) {
			tMax = r.StartedAt
		}
	}
	if !tMax.After(tMin) {
		// One instant has no width; a day either side keeps the point mid-axis with dated ticks.
		tMin, tMax = tMin.Add(-12*time.Hour), tMax.Add(12*time.Hour)
	}
	x0, x1 := float64(chartMarginLeft), float64(width-chartMarginRight)
	xOf := func(t time.Time) float64 {
		return x0 + (x1-x0)*t.Sub(tMin).Seconds()/tMax.Sub(tMin).Seconds()
	}
	xTicks, xFmt := timeTicks(tMin, tMax, int((x1-x0)/90))

	for p, osID := range oses {
		top := header + p*panelH
		y0 := float64(top + panelTitleHeight)         // top of the plot area
		y1 := float64(top + panelH - panelAxisHeight) // bottom (the time axis)
		series := map[string][][2]float64{}
		maxSec := 0.0
		for _, r := range byOS[osID] {
			for _, s := range mergedStages(r) {
				if s.Outcome != OutcomeSuccess {
					continue
				}
				series[s.Name] = append(series[s.Name], [2]float64{xOf(r.StartedAt), s.Seconds})
				maxSec = math.Max(maxSec, s.Seconds)
			}
		}
		unitName, unit := durationUnit(maxSec)
		step, yTop := niceScale(maxSec/unit, 4)
		yOf := func(sec float64) float64 { return y1 - (y1-y0)*(sec/unit)/yTop }

		fmt.Fprintf(&b, `<g class="panel" data-os="%s">`+"\n", esc(osID))
		fmt.Fprintf(&b, `<text class="panel-title" x="%d" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", chartMarginLeft, top+16, esc(osID))
		// Axes and grid.
		b.WriteString(`<g class="axis y">` + "\n")
		decimals := stepDecimals(step)
		for k := 0; k <= int(math.Round(yTop/step)); k++ {
			v := float64(k) * step
			y := yOf(v * unit)
			fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e0e0e0"/>`, f1(x0), f1(y), f1(x1), f1(y))
			fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">%s</text>`+"\n", f1(x0-6), f1(y+4), strconv.FormatFloat(v, 'f', decimals, 64))
		}
		fmt.Fprintf(&b, `<text x="12" y="%s" transform="rotate(-90 12 %s)" text-anchor="middle">%s</text>`+"\n", f1((y0+y1)/2), f1((y0+y1)/2), unitName)
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333333"/>`+"\n", f1(x0), f1(y0), f1(x0), f1(y1))
		b.WriteString("</g>\n")
		b.WriteString(`<g class="axis x">` + "\n")
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333333"/>`+"\n", f1(x0), f1(y1), f1(x1), f1(y1))
		for _, t := range xTicks {
			x := xOf(t)
			fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333333"/>`, f1(x), f1(y1), f1(x), f1(y1+4))
			fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", f1(x), f1(y1+16), esc(t.UTC().Format(xFmt)))
		}
		b.WriteString("</g>\n")
		for _, r := range byOS[osID] {
			if r.Outcome != OutcomeFailure {
				continue
			}
			x := xOf(r.StartedAt)
			fmt.Fprintf(&b, `<line class="failure" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#d62728" stroke-dasharray="3 3"><title>%s</title></line>`+"\n",
				f1(x), f1(y0), f1(x), f1(y1), esc(fmt.Sprintf("%s failed in %s", r.StartedAt.UTC().Format(time.RFC3339), r.FailedStage)))
		}
		for _, name := range stageNames {
			pts := series[name]
			if len(pts) == 0 {
				continue
			}
			i := stageIndex[name]
			coords := make([]string, len(pts))
			for k, pt := range pts {
				coords[k] = f1(pt[0]) + "," + f1(yOf(pt[1]))
			}
			fmt.Fprintf(&b, `<polyline class="series" data-stage="%s" points="%s" fill="none" stroke="%s" stroke-width="1.5"%s/>`+"\n",
				esc(name), strings.Join(coords, " "), stageColor(i), stageDash(i))
			for k, pt := range pts {
				// A marker per run, so a single run (no line to draw) still shows.
				fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="2.5" fill="%s"><title>%s</title></circle>`, f1(pt[0]), f1(yOf(pt[1])), stageColor(i), esc(fmt.Sprintf("%s: %.1f s", name, pt[1])))
				if k == len(pts)-1 {
					b.WriteString("\n")
				}
			}
		}
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

type legendItem struct {
	name string
	x    int
}

// legendLayout wraps legend entries into rows that fit the width. Text width is estimated (no font
// metrics without a renderer) generously enough that entries do not overlap.
func legendLayout(names []string, width int) [][]legendItem {
	var rows [][]legendItem
	var row []legendItem
	x := chartMarginLeft
	for _, n := range names {
		w := 20 + 7*len([]rune(n)) + 16
		if len(row) > 0 && x+w > width-chartMarginRight {
			rows = append(rows, row)
			row, x = nil, chartMarginLeft
		}
		row = append(row, legendItem{name: n, x: x})
		x += w
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return rows
}

// stageColor and stageDash give each stage (by global index) a colour, and past the palette a dash
// pattern too, so stages stay distinguishable and keep the same look in every panel.
func stageColor(i int) string { return palette[i%len(palette)] }

func stageDash(i int) string {
	if i < len(palette) {
		return ""
	}
	return ` stroke-dasharray="6 2"`
}

// durationUnit picks the unit the y axis reads in, so tick labels stay short numbers.
func durationUnit(maxSec float64) (string, float64) {
	switch {
	case maxSec >= 2*3600:
		return "hours", 3600
	case maxSec >= 120:
		return "minutes", 60
	default:
		return "seconds", 1
	}
}

// niceScale returns a tick step of 1, 2 or 5 times a power of ten giving about n intervals up to
// maxV, and the axis top (a multiple of the step at or above maxV).
func niceScale(maxV float64, n int) (step, top float64) {
	if maxV <= 0 || math.IsNaN(maxV) || math.IsInf(maxV, 0) {
		return 1, 1
	}
	raw := maxV / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		step = m * mag
		if step >= raw {
			break
		}
	}
	top = math.Ceil(maxV/step-1e-9) * step
	return step, top
}

// stepDecimals is how many decimals tick labels need to show multiples of step exactly (0.25 → 2,
// 5 → 0); the shortest exact form of the step says it.
func stepDecimals(step float64) int {
	_, frac, ok := strings.Cut(strconv.FormatFloat(step, 'f', -1, 64), ".")
	if !ok {
		return 0
	}
	return len(frac)
}

// tickSteps are the time-axis intervals tried in order; the first that gives at most the wanted
// number of ticks is used. Steps of a day or more fall on midnight UTC.
var tickSteps = []time.Duration{
	time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour,
	30 * 24 * time.Hour, 91 * 24 * time.Hour, 182 * 24 * time.Hour, 365 * 24 * time.Hour,
}

// timeTicks returns tick times within [from, to], at most about maxTicks of them, and the layout to
// label them with (dates, or dates with times when ticks are less than a day apart).
func timeTicks(from, to time.Time, maxTicks int) ([]time.Time, string) {
	maxTicks = max(maxTicks, 2)
	span := to.Sub(from)
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s <= time.Duration(maxTicks) {
			step = s
			break
		}
	}
	for span/step > time.Duration(maxTicks) {
		step *= 2
	}
	layout := "2006-01-02"
	if step < 24*time.Hour {
		layout = "01-02 15:04"
	}
	stepSec := int64(step / time.Second)
	// Truncating to a multiple of the step aligns ticks to UTC; the loop drops any before from.
	first := from.Unix() / stepSec * stepSec
	var ticks []time.Time
	for t := time.Unix(first, 0).UTC(); !t.After(to); t = t.Add(step) {
		if !t.Before(from) {
			ticks = append(ticks, t)
		}
	}
	return ticks, layout
}

// f1 formats a coordinate with one decimal: enough precision for a screen, and stable text.
func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// esc escapes text for element content and attribute values alike (it escapes both quote kinds) and
// replaces characters XML cannot carry.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
