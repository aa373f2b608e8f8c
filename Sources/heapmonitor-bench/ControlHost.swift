import ArgumentParser
import Foundation
import HeapMonitor

/// A class per generic argument: `Cell<(D3, D0, D7)>` and `Cell<(D3, D0,
/// D8)>` have metadata of their own, so the census counts them apart.
final class Cell<Tag> {
    var value = 0
}

/// The class a growing control host keeps adding instances of.
final class GrowingCell {
    var value = 0
}

/// Digits of a class number, as types.
enum D0 {}
enum D1 {}
enum D2 {}
enum D3 {}
enum D4 {}
enum D5 {}
enum D6 {}
enum D7 {}
enum D8 {}
enum D9 {}

/// The `control` benchmark's monitored process: this executable again,
/// holding the objects and serving its control channel until its standard
/// input closes.
struct ControlHost {
    let pid: Int32
    private let process: Process
    private let input: Pipe

    /// `objects` instances spread evenly over `classes` classes of `Cell`.
    static func allocate(objects: Int, classes: Int) -> [AnyObject] {
        let digits: [Any.Type] = [D0.self, D1.self, D2.self, D3.self, D4.self, D5.self, D6.self, D7.self,
                                  D8.self, D9.self]
        func cells<A, B, C>(_: A.Type, _: B.Type, _: C.Type, count: Int) -> [AnyObject] {
            (0..<count).map { _ in Cell<(A, B, C)>() }
        }
        var held: [AnyObject] = []
        held.reserveCapacity(objects)
        for index in 0..<classes {
            let count = objects / classes + (index < objects % classes ? 1 : 0)
            let hundreds: Any.Type = digits[index / 100], tens: Any.Type = digits[index / 10 % 10]
            let units: Any.Type = digits[index % 10]
            held.append(contentsOf: cells(hundreds, tens, units, count: count))
        }
        return held
    }

    /// Starts the host and waits until it listens.
    static func launch(objects: Int, classes: Int) throws -> ControlHost {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["control-host", "--objects", "\(objects)", "--classes", "\(classes)"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableLine(), as: UTF8.self)
        guard line.hasPrefix("listening") else {
            process.terminate()
            throw ValidationError("the control host did not start: \(line)")
        }
        return ControlHost(pid: process.processIdentifier, process: process, input: input)
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

extension FileHandle {
    /// Bytes up to the first newline (or the end).
    fileprivate func availableLine() -> [UInt8] {
        var line: [UInt8] = []
        while let byte = try? read(upToCount: 1), let first = byte.first, first != UInt8(ascii: "\n") {
            line.append(first)
        }
        return line
    }
}

/// `heapmonitor-bench control-host` (run by `control`, not by hand).
struct ControlHostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control-host", abstract: "The control benchmark's monitored process.", shouldDisplay: false)

    @Option var objects = 1_000_000
    @Option var classes = 1_000
    /// Instances of `GrowingCell` added per second, for live views to find.
    @Option var growth = 0

    func run() throws {
        try Tracker.shared.startControlChannel(snapshotSignal: nil)
        let held = ControlHost.allocate(objects: objects, classes: classes)
        if growth > 0 {
            let perTick = max(1, growth / 10)
            Thread.detachNewThread {
                var kept: [GrowingCell] = []
                while true {
                    kept.append(contentsOf: (0..<perTick).map { _ in GrowingCell() })
                    Thread.sleep(forTimeInterval: 0.1)
                }
            }
        }
        FileHandle.standardOutput.write(Data("listening\n".utf8))
        _ = FileHandle.standardInput.readDataToEndOfFile()
        Tracker.shared.stopControlChannel()
        withExtendedLifetime(held) {}
    }
}
