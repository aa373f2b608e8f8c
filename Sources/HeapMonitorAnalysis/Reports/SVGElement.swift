/// One SVG element as text: `<line x1="0" x2="8"/>`, or with `content`,
/// `<text x="4">label</text>`. Values and content are written as given:
/// callers escape text that is not theirs (`HTML.escape`).
func svgElement(_ name: String, _ attributes: KeyValuePairs<String, String>, content: String? = nil) -> String {
    let attributeText = attributes.map { " \($0.key)=\"\($0.value)\"" }.joined()
    guard let content else { return "<\(name)\(attributeText)/>" }
    return "<\(name)\(attributeText)>\(content)</\(name)>"
}
