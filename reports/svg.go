package reports

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"

	"sweep/internal/safetext"
)

// plot draws one chart as an inline SVG string: a frame with nice ticks in
// data coordinates, plus marks added by the figure functions. It holds no
// state beyond the string being built, so figures stay deterministic.
type plot struct {
	w, h                  float64
	left, right, top, bot float64
	x0, x1, y0, y1        float64
	title, xlabel, ylabel string
	// xTicks and yTicks replace the nice numeric ticks when set: one per
	// categorical choice, decades of a log axis, lanes of a timeline.
	xTicks, yTicks []axisTick
	// clip is set by zoomTo: marks outside [x0,x1]×[y0,y1] are left out.
	clip bool
	// series are the legend's colours, for Axes.
	series []string
	b      strings.Builder
}

// axisTick is a labelled position on an axis, in data coordinates.
type axisTick struct {
	At    float64
	Label string
}

// Palette, colour-blind safe (Okabe-Ito).
const (
	colBlue   = "#0072b2"
	colOrange = "#e69f00"
	colRed    = "#d55e00"
	colGreen  = "#009e73"
	colGrey   = "#999999"
	colPurple = "#cc79a7"
)

func newPlot(title, xlabel, ylabel string, x0, x1, y0, y1 float64) *plot {
	if !(x1 > x0) {
		x0, x1 = x0-1, x0+1
	}
	if !(y1 > y0) {
		y0, y1 = y0-0.5, y0+0.5
	}
	pad := (y1 - y0) * 0.05
	return &plot{w: 560, h: 300, left: 58, right: 16, top: 30, bot: 42,
		x0: x0, x1: x1, y0: y0 - pad, y1: y1 + pad, title: title, xlabel: xlabel, ylabel: ylabel}
}

func (p *plot) px(x float64) float64 {
	return p.left + (x-p.x0)/(p.x1-p.x0)*(p.w-p.left-p.right)
}

func (p *plot) py(y float64) float64 {
	return p.h - p.bot - (y-p.y0)/(p.y1-p.y0)*(p.h-p.top-p.bot)
}

// frame draws the title, axes, grid lines and tick labels.
func (p *plot) frame() {
	fmt.Fprintf(&p.b, `<text x="%g" y="18" class="title">%s</text>`, p.left, esc(p.title))
	yt, xt := p.yTicks, p.xTicks
	if yt == nil {
		yt = numTicks(p.y0, p.y1, 5)
	}
	if xt == nil {
		xt = numTicks(p.x0, p.x1, 6)
	}
	for _, t := range yt {
		y := p.py(t.At)
		fmt.Fprintf(&p.b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" class="grid"/>`, p.left, p.w-p.right, y, y)
		fmt.Fprintf(&p.b, `<text x="%g" y="%.1f" class="tick" text-anchor="end">%s</text>`, p.left-4, y+3, esc(t.Label))
	}
	for _, t := range xt {
		x := p.px(t.At)
		fmt.Fprintf(&p.b, `<line x1="%.1f" x2="%.1f" y1="%g" y2="%g" class="axis"/>`, x, x, p.h-p.bot, p.h-p.bot+4)
		fmt.Fprintf(&p.b, `<text x="%.1f" y="%g" class="tick" text-anchor="middle">%s</text>`, x, p.h-p.bot+15, esc(t.Label))
	}
	fmt.Fprintf(&p.b, `<rect x="%g" y="%g" width="%g" height="%g" class="frame"/>`,
		p.left, p.top, p.w-p.left-p.right, p.h-p.top-p.bot)
	fmt.Fprintf(&p.b, `<text x="%g" y="%g" class="label" text-anchor="middle">%s</text>`,
		(p.left+p.w-p.right)/2, p.h-6, esc(p.xlabel))
	fmt.Fprintf(&p.b, `<text transform="translate(13 %g) rotate(-90)" class="label" text-anchor="middle">%s</text>`,
		(p.top+p.h-p.bot)/2, esc(p.ylabel))
}

// line draws a polyline through data points (xs[i], ys[i]); a zoomed plot
// draws the parts inside its box.
func (p *plot) line(xs, ys []float64, color string, width, opacity float64, title string) {
	if !p.clip {
		p.polyline(xs, ys, color, width, opacity, title)
		return
	}
	for _, run := range p.clipLine(xs, ys) {
		p.polyline(run[0], run[1], color, width, opacity, title)
	}
}

func (p *plot) polyline(xs, ys []float64, color string, width, opacity float64, title string) {
	if len(xs) == 0 {
		return
	}
	if len(xs) == 1 {
		// A one-point polyline draws nothing: a trial that reported one
		// epoch would vanish while the legend names it.
		fmt.Fprintf(&p.b, `<circle cx="%s" cy="%s" r="%g" fill="%s" fill-opacity="%g"><title>%s</title></circle>`,
			num(p.px(xs[0])), num(p.py(ys[0])), width+1, color, math.Max(opacity, 0.6), esc(title))
		return
	}
	p.b.WriteString(`<polyline fill="none" points="`)
	for i := range xs {
		if i > 0 {
			p.b.WriteByte(' ')
		}
		p.b.WriteString(num(p.px(xs[i])))
		p.b.WriteByte(',')
		p.b.WriteString(num(p.py(ys[i])))
	}
	fmt.Fprintf(&p.b, `" stroke="%s" stroke-width="%g" stroke-opacity="%g">`, color, width, opacity)
	if title != "" {
		fmt.Fprintf(&p.b, `<title>%s</title>`, esc(title))
	}
	p.b.WriteString(`</polyline>`)
}

// dot draws a filled circle at data point (x, y).
func (p *plot) dot(x, y, r float64, color, title string) {
	if !p.inside(x, y) {
		return
	}
	fmt.Fprintf(&p.b, `<circle cx="%s" cy="%s" r="%g" fill="%s"><title>%s</title></circle>`,
		num(p.px(x)), num(p.py(y)), r, color, esc(title))
}

// cross marks a data point with an ×, used for pruned trials.
func (p *plot) cross(x, y, r float64, color string) {
	if !p.inside(x, y) {
		return
	}
	cx, cy := p.px(x), p.py(y)
	fmt.Fprintf(&p.b, `<path d="M%s %sl%g %gm0 %gl%g %g" stroke="%s" stroke-width="1.2"/>`,
		num(cx-r), num(cy-r), 2*r, 2*r, -2*r, -2*r, 2*r, color)
}

// legend lists (colour, label) pairs in one row at the top right, beside
// the title and clear of the data.
func (p *plot) legend(items ...string) {
	x := p.w - p.right
	for i := len(items) - 2; i >= 0; i -= 2 {
		x -= 14 + 5.8*float64(len([]rune(items[i+1]))) + 10
		fmt.Fprintf(&p.b, `<rect x="%s" y="9" width="10" height="10" fill="%s"/>`, num(x), items[i])
		p.series = append(p.series, items[i])
		fmt.Fprintf(&p.b, `<text x="%s" y="18" class="tick">%s</text>`, num(x+14), esc(items[i+1]))
	}
}

func (p *plot) svg() string {
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g">%s</svg>`,
		p.w, p.h, p.w, p.h, p.b.String())
}

// panel returns the plot as a nested <svg> placed at (x, y) pixels of an
// enclosing chart, for small multiples (one slice panel per parameter).
func (p *plot) panel(x, y float64) string {
	return fmt.Sprintf(`<svg x="%g" y="%g" width="%g" height="%g" viewBox="0 0 %g %g">%s</svg>`,
		x, y, p.w, p.h, p.w, p.h, p.b.String())
}

// rect fills the data-coordinate box [x0,x1]×[y0,y1], at least minW
// pixels wide so that a short trial stays visible.
func (p *plot) rect(x0, x1, y0, y1, minW float64, fill, title string) {
	if p.clip {
		var ok bool
		if x0, x1, ok = p.clampSpan(x0, x1); !ok {
			return
		}
		if y0, y1 = math.Max(y0, p.y0), math.Min(y1, p.y1); y0 > y1 {
			return
		}
	}
	left, right := p.px(x0), p.px(x1)
	top, bot := p.py(y1), p.py(y0)
	fmt.Fprintf(&p.b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s">`,
		num(left), num(top), num(math.Max(minW, right-left)), num(bot-top), fill)
	if title != "" {
		fmt.Fprintf(&p.b, `<title>%s</title>`, esc(title))
	}
	p.b.WriteString(`</rect>`)
}

// numTicks labels niceTicks as numbers.
func numTicks(lo, hi float64, n int) []axisTick {
	var out []axisTick
	for _, t := range niceTicks(lo, hi, n) {
		out = append(out, axisTick{t, tickLabel(t)})
	}
	return out
}

// clipText cleans untrusted text and shortens it to at most n runes with
// an ellipsis, keeping the end when keepEnd is set (worker ids differ in
// their pid and slot suffix, not their host prefix). The result still
// needs esc.
func clipText(s string, n int, keepEnd bool) string {
	r := []rune(safetext.Terminal(s))
	if len(r) <= n {
		return string(r)
	}
	if keepEnd {
		return "…" + string(r[len(r)-n+1:])
	}
	return string(r[:n-1]) + "…"
}

// ramp maps t in [0,1] from light blue (early trials) to dark blue (late),
// kept apart from viridis, which the report uses for values.
func ramp(t float64) string {
	lo, hi := [3]float64{198, 219, 239}, [3]float64{8, 48, 107}
	t = math.Min(1, math.Max(0, t))
	var c [3]int
	for k := range c {
		c[k] = int(lo[k] + t*(hi[k]-lo[k]) + 0.5)
	}
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}

// niceTicks returns about n round tick values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return nil
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for t := math.Ceil(lo/step) * step; t <= hi+step*1e-9; t += step {
		out = append(out, math.Round(t/step)*step)
	}
	return out
}

func tickLabel(t float64) string {
	if t == 0 {
		return "0"
	}
	return strconv.FormatFloat(t, 'g', 4, 64)
}

// num formats a pixel coordinate with one decimal, the precision SVG needs.
func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// esc makes untrusted text (names, choices) safe inside SVG text: control
// characters and escape sequences dropped, markup escaped.
func esc(s string) string { return html.EscapeString(safetext.Terminal(s)) }

// rangeOf returns the min and max of xs, ignoring NaN.
func rangeOf(xs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	if math.IsInf(lo, 1) {
		return 0, 1
	}
	return lo, hi
}

// viridis maps t in [0,1] to a colour from dark purple (low) to yellow.
func viridis(t float64) string {
	stops := [][3]float64{{68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}}
	t = math.Min(1, math.Max(0, t)) * float64(len(stops)-1)
	i := int(t)
	if i == len(stops)-1 {
		i--
	}
	f := t - float64(i)
	var c [3]int
	for k := range c {
		c[k] = int(stops[i][k] + f*(stops[i+1][k]-stops[i][k]) + 0.5)
	}
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}
