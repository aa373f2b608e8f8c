import HeapMonitorModel
import Testing

@Suite("Agent configuration")
struct AgentConfigurationTests {
    @Test func switchesReadBackTheirArguments() throws {
        var switches = MonitorSwitches()
        _ = try switches.take(from: [
            "--debug=heapmonitor,garbage,heapgraph", "--heapprofile=a b.html", "--garbage=c.dot", "--heapsignal=USR1",
        ])
        var copy = MonitorSwitches()
        #expect(try copy.take(from: switches.arguments).isEmpty)
        #expect(copy == switches)
        #expect(switches.binaryProfilePath == "a b.html.hmprof")
        #expect(MonitorSwitches().arguments.isEmpty)
    }

    @Test func theEnvironmentValueRoundTripsAndChildrenWriteTheirOwnProfile() throws {
        var configuration = AgentConfiguration(profilePath: "/tmp/run one.hmprof")
        configuration.switches.servesControl = true
        configuration.switches.snapshotSignal = nil
        configuration.tracked = ["App.*", "Other.Type"]
        configuration.traced = ["App.Session"]
        configuration.recordsChildren = true
        let read = try AgentConfiguration(environmentValue: configuration.environmentValue)
        #expect(read == configuration)
        #expect(read.profilePath(forProcess: 42) == "/tmp/run one.hmprof")
        var child = read
        child.isChild = true
        let childRead = try AgentConfiguration(environmentValue: child.environmentValue)
        #expect(childRead.profilePath(forProcess: 42) == "/tmp/run one.hmprof.42")
    }

    @Test func aMalformedValueIsAnError() {
        #expect(throws: MonitorSwitchError.self) { try AgentConfiguration(environmentValue: "--track=A.*") }
        #expect(throws: MonitorSwitchError.self) {
            try AgentConfiguration(environmentValue: "--heapprofile=x\n--sideways")
        }
    }
}
