import Foundation

/// What a program file is, as far as `heapmonitor run` cares: read from its
/// ELF headers without running it.
enum ProgramKind: Equatable {
    /// Dynamically linked against `libswiftCore.so`: the agent can record it.
    /// `stripped`: no symbol table, so traces show addresses only.
    case dynamicSwift(stripped: Bool)
    /// Dynamically linked, without `libswiftCore.so`: a program built with
    /// `--static-swift-stdlib`, or not a Swift program.
    case noSwiftRuntime
    /// No dynamic section at all: `-static-executable`.
    case staticExecutable
    /// Not an ELF file (a script, say).
    case notELF
    /// HeapMonitor is linked in already: a second copy of the hooks would
    /// compete with the program's own.
    case linksHeapMonitor

    /// Reads the file at `path`; nil when it cannot be read.
    init?(path: String) {
        // Mapped, not read: a Swift toolchain's executables are 100 MB and more.
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) else {
            return nil
        }
        guard let elf = ELFFile(data) else { self = .notELF; return }
        self = elf.hasHooks ? .linksHeapMonitor : Self(elf: elf)
    }

    private init(elf: ELFFile) {
        guard elf.hasDynamicSection else { self = .staticExecutable; return }
        guard elf.neededLibraries.contains(where: { $0.hasPrefix("libswiftCore.so") }) else {
            self = .noSwiftRuntime
            return
        }
        self = .dynamicSwift(stripped: !elf.hasSymbolTable)
    }

    /// What `heapmonitor run` cannot do with this kind and what works
    /// instead, in one line; nil when it can.
    func refusal(for program: String) -> String? {
        switch self {
        case .dynamicSwift: return nil
        case .noSwiftRuntime:
            return "\(program) does not load libswiftCore.so (built with --static-swift-stdlib, or not Swift): "
                + "link HeapMonitor into it and use the host switches (README, \"Production builds\")"
        case .staticExecutable:
            return "\(program) is linked statically: link HeapMonitor into it with the --wrap flags "
                + "(docs/Tracking.md, \"Static executables\")"
        case .linksHeapMonitor:
            return "\(program) links HeapMonitor already: run it with its switches "
                + "(HEAPMONITOR=\"--debug=heapmonitor,control\" \(program))"
        case .notELF:
            return "\(program) is not an ELF executable: run the Swift program itself, "
                + "or record what it starts with --children"
        }
    }
}

/// The little of a 64-bit little-endian ELF file `ProgramKind` reads.
private struct ELFFile {
    private let bytes: Data
    private(set) var hasDynamicSection = false
    private(set) var hasSymbolTable = false
    private(set) var neededLibraries: [String] = []
    /// Whether it holds HeapMonitor's hooks: their code's section of its
    /// own, whose name stripping keeps.
    private(set) var hasHooks = false

    init?(_ data: Data) {
        bytes = data
        guard bytes.count >= 64, bytes.starts(with: [0x7F, 0x45, 0x4C, 0x46, 2, 1]) else {
            return nil
        }
        readProgramHeaders()
        readSectionHeaders()
    }

    private func integer(at offset: Int, size: Int) -> Int? {
        guard offset >= 0, size <= 8, offset + size <= bytes.count else { return nil }
        var value: UInt64 = 0
        let start = bytes.startIndex + offset
        for index in (0..<size).reversed() { value = value << 8 | UInt64(bytes[start + index]) }
        return Int(truncatingIfNeeded: value)
    }

    private func string(at offset: Int) -> String? {
        guard offset >= 0, offset < bytes.count else { return nil }
        let start = bytes.startIndex + offset
        guard let end = bytes[start...].firstIndex(of: 0) else { return nil }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// PT_LOAD segments as (virtual address, file offset, size), to turn
    /// the dynamic section's addresses into file offsets.
    private var loads: [(address: Int, offset: Int, size: Int)] = []

    private mutating func readProgramHeaders() {
        guard let table = integer(at: 32, size: 8), let entrySize = integer(at: 54, size: 2),
            let count = integer(at: 56, size: 2)
        else { return }
        var dynamic: (offset: Int, size: Int)?
        for index in 0..<count {
            let header = table + index * entrySize
            guard let type = integer(at: header, size: 4), let offset = integer(at: header + 8, size: 8),
                let address = integer(at: header + 16, size: 8), let size = integer(at: header + 32, size: 8)
            else { return }
            if type == 1 { loads.append((address, offset, size)) }
            if type == 2 { dynamic = (offset, size) }
        }
        guard let dynamic else { return }
        hasDynamicSection = true
        var needed: [Int] = []
        var stringTable: Int?
        for entry in stride(from: dynamic.offset, to: dynamic.offset + dynamic.size, by: 16) {
            guard let tag = integer(at: entry, size: 8), let value = integer(at: entry + 8, size: 8), tag != 0
            else { break }
            if tag == 1 { needed.append(value) }
            if tag == 5 { stringTable = fileOffset(ofAddress: value) }
        }
        guard let stringTable else { return }
        neededLibraries = needed.compactMap { string(at: stringTable + $0) }
    }

    private func fileOffset(ofAddress address: Int) -> Int? {
        loads.first { address >= $0.address && address < $0.address + $0.size }
            .map { address - $0.address + $0.offset }
    }

    private mutating func readSectionHeaders() {
        guard let table = integer(at: 40, size: 8), let entrySize = integer(at: 58, size: 2),
            let count = integer(at: 60, size: 2)
        else { return }
        hasSymbolTable = (0..<count).contains { integer(at: table + $0 * entrySize + 4, size: 4) == 2 }
        guard let namesIndex = integer(at: 62, size: 2),
            let names = integer(at: table + namesIndex * entrySize + 24, size: 8)
        else { return }
        hasHooks = (0..<count).contains { index in
            integer(at: table + index * entrySize, size: 4).flatMap { string(at: names + $0) } == "hm_hook_text"
        }
    }
}
