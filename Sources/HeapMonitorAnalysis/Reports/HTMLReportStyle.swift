extension HTMLReport {
    /// The page's CSS: system fonts, light tables, chart classes.
    static let style = """
        body{font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;margin:24px auto;
        max-width:1100px;padding:0 16px}
        h1{font-size:24px;margin:0 0 4px}
        h2{font-size:19px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
        h3{font-size:15px;margin:16px 0 6px}.meta{color:#555;margin:0 0 8px}nav{margin:8px 0 16px}
        table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
        th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}
        th{background:#f6f6f6}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
        svg{display:block;margin:8px 0;max-width:100%;height:auto}.chart-title{font-size:13px;font-weight:600;fill:#222}
        .axis{font-size:11px;fill:#555}.marker{stroke:#999;stroke-dasharray:2 3}.legend{font-size:12px;fill:#222}
        .grid{stroke:#e6e6e6}.frame{stroke:#888}
        details{margin:2px 0}summary{cursor:pointer}pre{background:#f8f8f8;padding:8px;overflow-x:auto;font-size:12px}
        a{color:#2a5db0}
        """
}
