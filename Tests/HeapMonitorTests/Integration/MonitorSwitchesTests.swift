@testable import HeapMonitor
@testable import HeapMonitorAnalysis
@testable import HeapMonitorModel
@testable import HeapMonitorRecording
import HeapMonitorOptions
import Testing

@Suite("Host switches")
struct MonitorSwitchesTests {
    @Test func theSwitchesAreTakenOutOfTheArguments() throws {
        let (switches, rest) = try MonitorSwitches.parse(
            [
                "tool", "build", "--debug=heapmonitor,memory", "-j", "4", "--heapprofile=heap.html", "--debug",
                "garbage",
                "--garbage=leaks.dot", "--", "--debug=kept",
            ], environment: [:])
        #expect(switches.tracksObjects && switches.takesSnapshots && switches.printsGarbage && switches.findsGarbage)
        #expect(switches.profilePath == "heap.html" && switches.garbageGraphPath == "leaks.dot")
        #expect(rest == ["tool", "build", "-j", "4", "--", "--debug=kept"])
    }

    @Test func theEnvironmentVariableCarriesTheSameSwitches() throws {
        let (switches, rest) = try MonitorSwitches.parse(
            ["tool", "--debug=memory"],
            environment: ["HEAPMONITOR": "--debug=heapmonitor --heapprofile=p.hmprof"])
        #expect(switches.tracksObjects && switches.takesSnapshots && switches.profilePath == "p.hmprof")
        #expect(rest == ["tool"])
        #expect(try MonitorSwitches.parse(["tool"], environment: [:]).switches.isEmpty)
        #expect(try MonitorSwitches(environment: ["HEAPMONITOR": "--debug=garbage"]).printsGarbage)
    }

    @Test func malformedSwitchesGetClearErrors() {
        for (arguments, environment, expected) in [
            (["tool", "--debug=memroy"], [:], "'memroy' is not one of heapmonitor, memory, garbage"),
            (["tool", "--heapprofile"], [:], "--heapprofile needs a value"),
            (["tool", "--heapprofile="], [:], "--heapprofile needs a file name"),
            (["tool"], ["HEAPMONITOR": "--debug=memory --verbose"], "'--verbose', which is not a HeapMonitor switch"),
        ] as [([String], [String: String], String)] {
            #expect {
                _ = try MonitorSwitches.parse(arguments, environment: environment)
            } throws: { error in
                (error as? MonitorSwitchError)?.description.contains(expected) == true
            }
        }
    }

    @Test func theOptionGroupParsesAndValidates() throws {
        let options = try MonitorOptions.parse(["--debug", "heapmonitor,garbage", "--garbage", "g.dot"])
        let switches = try options.switches()
        #expect(switches.tracksObjects && switches.printsGarbage && switches.garbageGraphPath == "g.dot")
        #expect(throws: (any Error).self) { _ = try MonitorOptions.parse(["--debug", "everything"]) }
    }
}
