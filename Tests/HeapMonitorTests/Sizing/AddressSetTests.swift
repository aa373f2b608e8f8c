@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Testing

@Suite("Address set")
struct AddressSetTests {
    @Test func insertsOnceAndGrows() {
        var set = AddressSet(capacity: 4)
        let addresses = (1...10_000).map { UInt($0) * 16 }
        var firstInserts = 0, secondInserts = 0, found = 0
        for address in addresses where set.insert(address) { firstInserts += 1 }
        for address in addresses where set.insert(address) { secondInserts += 1 }
        for address in addresses where set.contains(address) { found += 1 }
        let count = set.count, containsOther = set.contains(16 * 10_001)
        #expect(firstInserts == addresses.count)
        #expect(secondInserts == 0)
        #expect(count == addresses.count)
        #expect(found == addresses.count)
        #expect(!containsOther)
        set.removeAll()
        let countAfterRemoval = set.count, containsAfterRemoval = set.contains(16)
        #expect(countAfterRemoval == 0)
        #expect(!containsAfterRemoval)
    }
}
