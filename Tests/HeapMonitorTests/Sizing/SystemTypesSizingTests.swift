import Dispatch
import Foundation
@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Synchronization
import Testing

private protocol Delegate: AnyObject { func ping() }

/// Holds one of many kinds of system objects and values, and refers to
/// itself weakly, unownedly and through closures that capture it weakly.
private final class Zoo: Delegate {
    weak var delegate: Delegate?
    unowned var me: Zoo?
    var handlers: [String: () -> Void] = [:]
    var task: Task<Int, Never>?
    var stream: AsyncStream<Int>?
    var continuation: AsyncStream<Int>.Continuation?
    var queue = DispatchQueue(label: "zoo")
    var semaphore = DispatchSemaphore(value: 1)
    var group = DispatchGroup()
    var workItem = DispatchWorkItem {}  // holds a block: metadata without value witnesses
    var timer: DispatchSourceTimer = DispatchSource.makeTimerSource()
    var operationQueue = OperationQueue()
    var thread = Thread {}
    var lock = NSLock()
    var pipe = Pipe()
    var keyPath: AnyKeyPath = \Zoo.handlers
    var anyHashable = AnyHashable("a key long enough to be stored")
    var error: Error = CocoaError(.fileNoSuchFile)
    var nsString: NSString = "an NSString that is long enough"
    var nsArray: NSArray = [1, "two", 3.0]
    var nsDictionary: NSDictionary = ["a": 1]
    var encoder = JSONEncoder()
    var formatter = DateFormatter()
    var regex = try! Regex("a+b")
    let mutex = Mutex([1, 2, 3])
    var metatype: Any.Type = Zoo.self
    var lazy = (0..<100).lazy.map { $0 * 2 }
    var unmanaged: Unmanaged<Zoo>?
    var date = Date(), url = URL(string: "https://example.com/a/b?c=d")!, uuid = UUID()
    var calendar = Calendar.current, locale = Locale(identifier: "en_US")
    var decimal = Decimal(string: "3.14159")!
    var characterSet = CharacterSet.alphanumerics, indexSet = IndexSet([1, 2, 5])
    var attributed = AttributedString("hello")
    var measurement = Measurement(value: 3, unit: UnitLength.meters)

    init() {
        timer.resume()
        delegate = self
        me = self
        unmanaged = .passUnretained(self)
        handlers["weak"] = { [weak self] in self?.ping() }
        handlers["unowned"] = { [unowned self] in ping() }
        handlers["unsafe"] = { [unowned(unsafe) self] in ping() }
        task = Task { 42 }
        (stream, continuation) = AsyncStream<Int>.makeStream()
    }

    deinit { timer.cancel() }

    func ping() {}
}

/// Sizing reads whatever a program holds: system types must neither crash it
/// nor be misread.
@Suite("System types")
struct SystemTypesSizingTests {
    @Test func everyLevelSizesTheSameTotalWithoutCrashing() {
        let zoo = Zoo()
        let total = deepSize(of: zoo)
        #expect(total > MemoryLayout<Zoo>.size)
        for level in 0..<6 {
            #expect(sizedTree(of: zoo, resolutionLevel: level).size == total, "level \(level)")
        }
        // Weak, unowned and unowned(unsafe) references to itself are not
        // followed: the closures' contexts add their own blocks only.
        let tree = sizedTree(of: zoo, resolutionLevel: 2)
        #expect(tree.referent("delegate") == nil && tree.referent("me") == nil)
    }

    @Test func aBlockFunctionTypeIsOneWord() {
        let block = Metadata((@convention(block) () -> Void).self)
        #expect(block.size == 8 && block.isPOD)
    }
}

extension TrackerSuite {
    @Suite("System types, leak scan")
    struct SystemTypesLeakTests {
        /// Its self-references are weak or unowned: freed, it leaves no cycle,
        /// and alive it is not one.
        @Test func theLeakScanFollowsTheSameRules() throws {
            let tracker = freshTracker()
            try tracker.startWatchingForLeaks()
            defer { tracker.stopWatchingForLeaks() }
            var zoo: Zoo? = Zoo()
            #expect(try tracker.findLeaks().cycles.isEmpty)
            #expect(tracker.liveInstances(of: Zoo.self) == 1)
            zoo = nil
            #expect(try tracker.findLeaks().cycles.isEmpty)
            #expect(tracker.liveInstances(of: Zoo.self) == 0)
            _ = keep(zoo)
        }
    }
}
