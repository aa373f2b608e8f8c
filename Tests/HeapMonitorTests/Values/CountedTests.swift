@testable import HeapMonitorModel
import Testing

@Suite("Counted nouns")
struct CountedTests {
    @Test func nounsTakeTheirPluralForm() {
        #expect(counted(1, "object") == "1 object")
        #expect(counted(3, "object") == "3 objects")
        #expect(counted(0, "object") == "0 objects")
        #expect(counted(1, "class") == "1 class")
        #expect(counted(9, "class") == "9 classes")
        #expect(counted(2, "more class") == "2 more classes")
    }
}
