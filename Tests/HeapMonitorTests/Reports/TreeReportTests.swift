import HeapMonitor
import Testing

@Suite("Tree report")
struct TreeReportTests {
    static let tree = SizedNode(
        name: "root", typeName: "App.Node", flatSize: 100,
        referents: [
            SizedNode(name: "small", typeName: "Swift.String", flatSize: 10),
            SizedNode(
                name: "large", typeName: "Swift.Array<App.Node>", flatSize: 2000,
                referents: [
                    SizedNode(name: "[0]", typeName: "App.Node", flatSize: 50),
                    SizedNode(name: "[1]", typeName: "App.Node", flatSize: 50),
                ]),
            SizedNode(name: "odd", typeName: "() -> ()", flatSize: 48, isOpaque: true),
        ])

    @Test func rendersLargestFirstWithTypesAndSizes() {
        let lines = TreeReport().render(Self.tree).split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        #expect(lines[0].hasPrefix("root: App.Node"))
        #expect(lines[0].hasSuffix("2.2 KiB  flat 100 B"))
        #expect(lines[1].hasPrefix("├─ large: Array<App.Node>"))
        #expect(lines[2].hasPrefix("│  ├─ [0]: App.Node"))  // equal sizes keep their order
        #expect(lines[3].hasPrefix("│  └─ [1]: App.Node"))
        #expect(lines[4].contains("odd: () -> () [not introspectable: sized flat]"))
        #expect(lines[5].hasPrefix("└─ small: String"))
        // Sizes are right-aligned in one column.
        #expect(Set(lines[2...5].map(\.count)).count == 1)
    }

    @Test func limitsReferentsAndDepth() {
        let text = TreeReport(referentLimit: 1, depthLimit: 1).render(Self.tree)
        #expect(text.contains("└─ … 2 more referents"))
        #expect(!text.contains("[0]"))
    }
}
