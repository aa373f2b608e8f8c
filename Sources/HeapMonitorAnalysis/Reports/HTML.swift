/// Escaping for HTML text and attribute values.
enum HTML {
    /// `text` with `&`, `<`, `>` and both quotes as entities.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    /// A table: a header row, then `rows`; columns in `numeric` align right.
    static func table(_ headers: [String], numeric: Set<Int>, _ rows: [[String]]) -> String {
        let head = headers.enumerated().map { "<th\(numeric.contains($0) ? " class=\"n\"" : "")>\($1)</th>" }.joined()
        let body = rows.map { row in
            "<tr>" + row.enumerated().map { "<td\(numeric.contains($0) ? " class=\"n\"" : "")>\($1)</td>" }.joined()
                + "</tr>"
        }.joined(separator: "\n")
        return "<table><thead><tr>\(head)</tr></thead><tbody>\n\(body)\n</tbody></table>"
    }
}
