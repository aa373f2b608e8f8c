import HeapMonitorModel

/// Line and stacked-area charts as inline SVG: axes with units and ticks, a
/// legend, nothing fetched at view time.
struct SVGChart {
    struct Series {
        var name: String
        var values: [Double]
        /// Stacked areas are drawn first, lines over them.
        var isLine: Bool
        /// The x of each value, when not the chart's `xValues` (stacked
        /// areas must share theirs).
        var xValues: [Double]? = nil
    }

    var title: String
    var xValues: [Double]
    var xUnit: String
    var series: [Series]
    /// Whether y values are bytes (ticks in a binary unit) or counts.
    var yIsBytes: Bool
    var width = 860.0, height = 320.0
    /// Moments drawn as thin vertical lines labelled at the top (the
    /// program's own snapshots among background ones); a label too close
    /// to the previous one is left to the line's tooltip.
    var markers: [(x: Double, label: String, tooltip: String)] = []

    static let palette = [
        "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f", "#bab0ac",
    ]
    static let lineColors = ["#222222", "#d62728", "#1f77b4"]

    func render() -> String {
        let left = 80.0, right = 190.0, top = 30.0, bottom = 45.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let areas = series.filter { !$0.isLine }, lines = series.filter(\.isLine)
        let areaX = areas.first?.xValues ?? xValues
        var stacked = [[Double]](repeating: [Double](repeating: 0, count: areaX.count), count: areas.count + 1)
        for (index, area) in areas.enumerated() {
            for point in areaX.indices {
                stacked[index + 1][point] = stacked[index][point] + (area.values[safe: point] ?? 0)
            }
        }
        let maxY = max(1, ([stacked.last ?? []] + lines.map(\.values)).flatMap { $0 }.max() ?? 1)
        let (scale, unit) = yIsBytes ? Self.byteAxis(maximum: maxY) : (1, "")
        let yStep = Self.niceStep(maxY / scale / 5)
        let yTicks = Self.ticks(upTo: maxY / scale).map { $0 * scale }
        let yTop = yTicks.last ?? maxY
        let minX = xValues.min() ?? 0, maxX = max((xValues.max() ?? 1), minX + 1e-9)
        func x(_ value: Double) -> Double { left + (value - minX) / (maxX - minX) * plotWidth }
        func y(_ value: Double) -> Double { top + plotHeight - value / yTop * plotHeight }

        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
                + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(HTML.escape(title))\">",
            "<text x=\"\(Int(left))\" y=\"18\" class=\"chart-title\">\(HTML.escape(title))</text>",
        ]
        for tick in yTicks {
            let tickY = f(y(tick))
            svg.append(svgElement("line", ["x1": f(left), "x2": f(left + plotWidth), "y1": tickY, "y2": tickY,
                                           "class": "grid"]))
            let label = Self.number(tick / scale, step: yStep) + (unit.isEmpty ? "" : " " + unit)
            svg.append(svgElement("text", ["x": f(left - 6), "y": f(y(tick) + 4), "text-anchor": "end",
                                           "class": "axis"], content: label))
        }
        let xStep = Self.niceStep((maxX - minX) / 6)
        for tick in Self.ticks(from: minX, upTo: maxX) {
            let tickX = f(x(tick))
            svg.append(svgElement("line", ["x1": tickX, "x2": tickX, "y1": f(top + plotHeight),
                                           "y2": f(top + plotHeight + 4), "class": "frame"]))
            svg.append(svgElement("text", ["x": tickX, "y": f(top + plotHeight + 16), "text-anchor": "middle",
                                           "class": "axis"], content: Self.number(tick, step: xStep)))
        }
        svg.append(svgElement("text", ["x": f(left + plotWidth / 2), "y": f(height - 6), "text-anchor": "middle",
                                       "class": "axis"], content: HTML.escape(xUnit)))
        svg.append(svgElement("line", ["x1": f(left), "x2": f(left), "y1": f(top), "y2": f(top + plotHeight),
                                       "class": "frame"]))
        svg.append(svgElement("line", ["x1": f(left), "x2": f(left + plotWidth), "y1": f(top + plotHeight),
                                       "y2": f(top + plotHeight), "class": "frame"]))
        var lastLabelX = -Double.infinity
        for marker in markers {
            let markerX = x(marker.x)
            svg.append(svgElement("line", ["x1": f(markerX), "x2": f(markerX), "y1": f(top), "y2": f(top + plotHeight),
                                           "class": "marker"],
                                  content: "<title>\(HTML.escape(marker.tooltip))</title>"))
            if markerX - lastLabelX >= 14 {
                // Right of the line, or left of it at the plot's right edge.
                let atEdge = markerX > left + plotWidth - 20
                svg.append(svgElement("text", ["x": f(atEdge ? markerX - 2 : markerX + 2), "y": f(top + 10),
                                               "text-anchor": atEdge ? "end" : "start", "class": "axis"],
                                      content: HTML.escape(marker.label)))
                lastLabelX = markerX
            }
        }
        for index in areas.indices.reversed() {
            let upper = areaX.indices.map { "\(f(x(areaX[$0]))),\(f(y(stacked[index + 1][$0])))" }
            let lower = areaX.indices.reversed().map { "\(f(x(areaX[$0]))),\(f(y(stacked[index][$0])))" }
            svg.append(svgElement("polygon", ["points": (upper + lower).joined(separator: " "),
                                              "fill": Self.palette[index % Self.palette.count],
                                              "fill-opacity": "0.85"],
                                  content: "<title>\(HTML.escape(areas[index].name))</title>"))
        }
        for (index, line) in lines.enumerated() {
            let (lineX, lineY) = Self.thinned(line.xValues ?? xValues, line.values, toAtMost: Self.maximumLinePoints)
            let points = lineX.indices.map { "\(f(x(lineX[$0]))),\(f(y(lineY[safe: $0] ?? 0)))" }
            let color = Self.lineColors[index % Self.lineColors.count]
            let title = "<title>\(HTML.escape(line.name))</title>"
            // The first line solid, the others dashed.
            svg.append(svgElement("polyline", ["points": points.joined(separator: " "), "fill": "none", "stroke": color,
                                               "stroke-width": "2", "stroke-dasharray": index == 0 ? "none" : "6 3"],
                                  content: title))
        }
        var legendY = top + 4
        for (index, line) in lines.enumerated() {
            svg.append(svgElement("line", ["x1": f(width - right + 14), "x2": f(width - right + 34), "y1": f(legendY),
                                           "y2": f(legendY), "stroke": Self.lineColors[index % Self.lineColors.count],
                                           "stroke-width": "2"]))
            svg.append(legendLabel(line.name, x: width - right + 40, y: legendY + 4))
            legendY += 18
        }
        for (index, area) in areas.enumerated() {
            svg.append(svgElement("rect", ["x": f(width - right + 14), "y": f(legendY - 6), "width": "20",
                                           "height": "11", "fill": Self.palette[index % Self.palette.count]]))
            svg.append(legendLabel(area.name, x: width - right + 40, y: legendY + 4))
            legendY += 18
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    /// Horizontal bars: one per label, with its value and share.
    static func bars(title: String, _ rows: [(label: String, value: Int, share: Double)]) -> String {
        let rowHeight = 22.0, labelWidth = 260.0, barWidth = 420.0
        let height = 30 + Double(rows.count) * rowHeight + 10
        let maximum = Double(max(1, rows.map(\.value).max() ?? 1))
        var svg = [
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"860\" height=\"\(Int(height))\" role=\"img\" "
                + "aria-label=\"\(HTML.escape(title))\">",
            "<text x=\"0\" y=\"18\" class=\"chart-title\">\(HTML.escape(title))</text>",
        ]
        for (index, row) in rows.enumerated() {
            let y = 30 + Double(index) * rowHeight
            let length = max(1, Double(row.value) / maximum * barWidth)
            svg.append(svgElement("text", ["x": f(labelWidth - 8), "y": f(y + 15), "text-anchor": "end",
                                           "class": "legend"], content: HTML.escape(clip(row.label, 36))))
            svg.append(svgElement("rect", ["x": f(labelWidth), "y": f(y + 3), "width": f(length), "height": "16",
                                           "fill": palette[index % palette.count]]))
            svg.append(
                "<text x=\"\(f(labelWidth + length + 6))\" y=\"\(f(y + 15))\" class=\"legend\">"
                    + "\(HTML.escape(ByteCount.format(row.value))) (\(StatsReport.percent(row.share)))</text>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    /// A legend entry's text, clipped to the legend's width.
    private func legendLabel(_ name: String, x: Double, y: Double) -> String {
        svgElement("text", ["x": f(x), "y": f(y), "class": "legend"], content: HTML.escape(Self.clip(name)))
    }

    /// Points drawn per line at most: an hour of background snapshots every
    /// 20 ms is 180,000 points, more than a page can carry or an eye tell apart.
    static let maximumLinePoints = 2_000

    /// At most `limit` points of a line: beyond that, the lowest and the
    /// highest point of each of `limit / 2` equal spans of x, in x order, so
    /// that peaks and troughs survive.
    static func thinned(_ xs: [Double], _ ys: [Double], toAtMost limit: Int) -> ([Double], [Double]) {
        let count = min(xs.count, ys.count)
        guard count > limit, let first = xs.first, let last = xs.last, last > first else { return (xs, ys) }
        let spans = max(1, limit / 2)
        var outX: [Double] = [], outY: [Double] = []
        var start = 0
        for span in 0..<spans {
            let end =
                span == spans - 1
                ? count
                : (xs[start..<count].firstIndex { $0 >= first + (last - first) * Double(span + 1) / Double(spans) }
                    ?? count)
            guard start < end else { continue }
            let slice = start..<end
            let low = slice.min { ys[$0] < ys[$1] }!, high = slice.max { ys[$0] < ys[$1] }!
            for index in Set([low, high]).sorted() {
                outX.append(xs[index])
                outY.append(ys[index])
            }
            start = end
        }
        return (outX, outY)
    }

    /// Round tick values from 0 to at least `maximum` (the last one at or
    /// above it, so the data fits under the top tick).
    static func ticks(upTo maximum: Double) -> [Double] {
        let step = niceStep(maximum / 5)
        var ticks: [Double] = [0]
        while ticks.last! < maximum - 1e-9 * step && ticks.count < 12 { ticks.append(ticks.last! + step) }
        return ticks
    }

    /// Round tick values within `minimum…maximum` (an x axis).
    static func ticks(from minimum: Double, upTo maximum: Double) -> [Double] {
        let step = niceStep(max(maximum - minimum, 1e-9) / 6)
        var value = (minimum / step).rounded(.up) * step
        var ticks: [Double] = []
        while value <= maximum + 1e-9 * step && ticks.count < 12 {
            ticks.append(value)
            value += step
        }
        return ticks
    }

    /// 1, 2, 2.5 or 5 times a power of ten, at least `rough`.
    static func niceStep(_ rough: Double) -> Double {
        guard rough > 0 else { return 1 }
        var magnitude = 1.0
        while magnitude * 10 <= rough { magnitude *= 10 }
        while magnitude > rough { magnitude /= 10 }
        return [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? rough
    }

    /// The binary unit for byte values up to `maximum`, and its size.
    static func byteAxis(maximum: Double) -> (scale: Double, unit: String) {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var scale = 1.0, unit = 0
        while maximum / scale >= 1024, unit < units.count - 1 { scale *= 1024; unit += 1 }
        return (scale, units[unit])
    }

    /// `value` with as many decimals as `step` needs.
    static func number(_ value: Double, step: Double = 1) -> String {
        var decimals = 0, scaled = step
        while scaled.rounded() != scaled || scaled < 1, decimals < 6 { scaled *= 10; decimals += 1 }
        if decimals == 0 { return String(Int(value.rounded())) }
        var factor = 1
        for _ in 0..<decimals { factor *= 10 }
        let whole = Int((abs(value) * Double(factor)).rounded())
        let fraction = String(whole % factor)
        return (value < 0 ? "-" : "")
            + "\(whole / factor).\(String(repeating: "0", count: decimals - fraction.count))\(fraction)"
    }

    static func clip(_ text: String, _ length: Int = 24) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }
}

private func f(_ value: Double) -> String { String((value * 10).rounded() / 10) }

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
