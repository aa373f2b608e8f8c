@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import Synchronization
import Testing

final class GraphSession {
    let name: String
    weak var store: GraphSessionStore?
    init(name: String) { self.name = name }
}

final class GraphSessionStore {
    nonisolated(unsafe) static let shared = GraphSessionStore()
    var sessions: [String: GraphSession] = [:]
}

/// A store as servers write them in Swift 6: the dictionary behind a mutex.
final class LockedSessionStore: Sendable {
    static let shared = LockedSessionStore()
    let sessions = Mutex<[Int: GraphSession]>([:])
}

/// A global holding a dictionary directly: its storage joins the graph.
nonisolated(unsafe) var graphTestCache: [Int: GraphSession] = [:]

extension TrackerSuite {
    @Suite("Heap graph capture")
    struct HeapGraphCaptureTests {
        @Test func aStaticHoldsItsSessionsByKey() throws {
            let tracker = freshTracker()
            try tracker.startWatchingForLeaks()
            defer {
                tracker.stopWatchingForLeaks()
                GraphSessionStore.shared.sessions = [:]
            }
            let store = GraphSessionStore.shared
            for number in 0..<20 {
                let session = GraphSession(name: "s\(number)")
                session.store = store
                store.sessions["s\(number)"] = session
            }
            let graph = try tracker.captureHeapGraph()
            let sessions = (0..<graph.count).filter { graph.typeName(of: $0).hasSuffix(".GraphSession") }
            #expect(sessions.count == 20)
            // Each session has one holder: the store's dictionary storage, by key.
            var holders: [Int: [(Int, String)]] = [:]
            for node in 0..<graph.count {
                for edge in graph.edges(of: node) {
                    holders[graph.target(ofEdge: edge), default: []].append((node, graph.label(ofEdge: edge)))
                }
            }
            for session in sessions {
                let held = try #require(holders[session])
                #expect(held.count == 1)
                #expect(held[0].1.hasPrefix("[\"s"), "\(held[0].1)")
            }
            let root = try #require(
                graph.roots.first { $0.kind == .global && $0.name.hasSuffix("GraphSessionStore.shared") })
            let storeNode = Int(root.targets[0])
            #expect(graph.typeName(of: storeNode).hasSuffix(".GraphSessionStore"))
            // Each session's `weak var store` is recorded, and holds nothing.
            let weak = graph.weakEdges.filter { graph.labels[Int($0.label)] == "store" }
            #expect(Set(weak.map { Int($0.from) }) == Set(sessions), "\(graph.weakEdges.count) weak edges")
            #expect(weak.allSatisfy { Int($0.to) == storeNode })
            let referrers = HeapGraphAnalysis(graph).weakReferrers(of: storeNode)
            #expect(referrers.count == 20 && referrers.allSatisfy { $0.typeName.hasSuffix(".GraphSession") })
            #expect(
                !(0..<graph.count).contains { node in
                    graph.edges(of: node).contains {
                        graph.target(ofEdge: $0) == storeNode && graph.label(ofEdge: $0) == "store"
                    }
                })
        }

        @Test func globalsAreNamedAsTheSourceSpellsThem() {
            #expect(
                HeapGraph.variableName("static App.SessionStore.shared : App.SessionStore")
                    == "App.SessionStore.shared")
            #expect(HeapGraph.variableName("App.(Shelf in _701A4D043E182D1B).shared : App.Shelf") == "App.Shelf.shared")
            #expect(HeapGraph.variableName("App.cache : [Swift.Int : App.(Entry in _9F)]") == "App.cache")
        }

        @Test func aMutexHoldsWhatItProtects() throws {
            let tracker = freshTracker()
            try tracker.startWatchingForLeaks()
            defer {
                tracker.stopWatchingForLeaks()
                LockedSessionStore.shared.sessions.withLock { $0 = [:] }
            }
            LockedSessionStore.shared.sessions.withLock { sessions in
                for number in 0..<12 { sessions[number] = GraphSession(name: "m\(number)") }
            }
            let graph = try tracker.captureHeapGraph()
            let analysis = HeapGraphAnalysis(graph)
            let groups = analysis.retainers(ofClass: "GraphSession")
            let group = try #require(groups.first)
            #expect(groups.count == 1 && group.count == 12)
            #expect(group.path.contains("LockedSessionStore.shared"), "\(group.path)")
            #expect(group.path.contains("sessions"), "\(group.path)")
        }
    }
}
