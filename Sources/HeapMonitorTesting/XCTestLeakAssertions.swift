#if canImport(XCTest)
import HeapMonitor
import XCTest

/// XCTest's form of `expectNoLeaks`: fails the test for every strong
/// reference cycle `body` leaves leaked, naming its types and fields.
@discardableResult
public func XCTAssertNoLeaks<Result>(
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath,
    line: UInt = #line, _ body: () throws -> Result
) rethrows -> Result {
    let (result, leaks) = try LeakCheck.run(body)
    for group in leaks {
        let suffix = message()
        XCTFail(LeakCheck.message(for: group) + (suffix.isEmpty ? "" : " — \(suffix)"), file: file, line: line)
    }
    return result
}

/// XCTest's form of `expectAtMost(_:instancesOf:)`.
public func XCTAssertAtMost(
    _ limit: Int, instancesOf type: AnyClass, file: StaticString = #filePath, line: UInt = #line
) {
    let live = LeakCheck.liveInstances(of: type)
    if live > limit { XCTFail(LeakCheck.countMessage(live, type, limit), file: file, line: line) }
}
#endif
