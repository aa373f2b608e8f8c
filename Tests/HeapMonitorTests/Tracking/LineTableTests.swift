import CHeapMonitor
import Foundation
import Testing

/// A minimal ELF file: a section-name table and a `.debug_line` section.
private func elfFile(debugLine: [UInt8]) -> [UInt8] {
    let names: [UInt8] = Array("\0.shstrtab\0.debug_line\0".utf8)
    var file = [UInt8](repeating: 0, count: 64)
    file.replaceSubrange(0..<4, with: [0x7F, 0x45, 0x4C, 0x46])  // \x7FELF
    file[4] = 2  // 64-bit
    file[5] = 1  // little-endian
    file[6] = 1
    let namesOffset = file.count
    file += names
    let linesOffset = file.count
    file += debugLine
    while file.count % 8 != 0 { file.append(0) }
    let sectionsOffset = file.count
    func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { file.replaceSubrange(offset..<offset + $0.count, with: $0) }
    }
    put(UInt64(sectionsOffset), at: 0x28)  // e_shoff
    put(UInt16(64), at: 0x3A)  // e_shentsize
    put(UInt16(3), at: 0x3C)  // e_shnum
    put(UInt16(1), at: 0x3E)  // e_shstrndx
    file += [UInt8](repeating: 0, count: 3 * 64)
    func section(_ index: Int, name: UInt32, offset: Int, size: Int) {
        let base = sectionsOffset + index * 64
        put(name, at: base)
        put(UInt32(1), at: base + 4)  // SHT_PROGBITS
        put(UInt64(offset), at: base + 24)
        put(UInt64(size), at: base + 32)
    }
    section(1, name: 1, offset: namesOffset, size: names.count)
    section(2, name: 11, offset: linesOffset, size: debugLine.count)
    return file
}

private func rows(_ file: [UInt8]) -> Int {
    file.withUnsafeBytes { hm_line_table_row_count($0.baseAddress, $0.count) }
}

/// The DWARF line-table reader over real and hostile input: a real image
/// yields rows, and no byte string makes it read out of bounds or crash.
@Suite("Line tables")
struct LineTableTests {
    @Test func theTestBinaryHasRows() throws {
        let image = try Data(contentsOf: URL(fileURLWithPath: "/proc/self/exe"))
        let count = image.withUnsafeBytes { hm_line_table_row_count($0.baseAddress, $0.count) }
        #expect(count > 1_000)
    }

    @Test func aHandWrittenProgramGivesItsRows() {
        // DWARF 4: one file, set_address 0x1000, three special opcodes that
        // each advance the line, advance_pc 4, end of sequence.
        var unit: [UInt8] = [4, 0]  // version
        var header: [UInt8] = [1, 1, 1, 0xFB, 14, 13]  // min inst, max ops, is_stmt, base -5, range 14, opcode base
        header += [0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1]  // standard opcode lengths
        header += [0]  // no include directories
        header += Array("a.swift\0".utf8) + [0, 0, 0] + [0]  // one file, then the end
        let program: [UInt8] = [0, 9, 2, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0x14, 0x22, 0x30, 2, 4, 0, 1, 1]
        unit += withUnsafeBytes(of: UInt32(header.count).littleEndian, Array.init) + header + program
        let section = withUnsafeBytes(of: UInt32(unit.count).littleEndian, Array.init) + unit
        #expect(rows(elfFile(debugLine: section)) == 4, "three lines and the end of the sequence")
        // Cut at every length: fewer rows or none, never a crash.
        for cut in 0..<section.count {
            #expect(rows(elfFile(debugLine: Array(section.prefix(cut)))) <= 4)
        }
        // Any byte changed, twice over: whatever it reads, it reads in bounds.
        var random = SplitMix(seed: 11)
        for _ in 0..<2_000 {
            var mutated = section
            for _ in 0..<2 {
                mutated[Int(random.next() % UInt64(mutated.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            _ = rows(elfFile(debugLine: mutated))
        }
    }

    @Test func randomBytesAreSurvived() {
        var random = SplitMix(seed: 7)
        for round in 0..<2_000 {
            let count = Int(random.next() % 300)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            // Half the rounds look like a unit header, to reach the program.
            if round % 2 == 0, bytes.count > 8 {
                let length = UInt32(bytes.count - 4).littleEndian
                bytes.replaceSubrange(0..<4, with: withUnsafeBytes(of: length, Array.init))
                bytes[4] = UInt8(2 + random.next() % 4)
                bytes[5] = 0
            }
            _ = rows(elfFile(debugLine: bytes))
        }
        #expect(rows([0x7F, 0x45, 0x4C, 0x46]) == 0, "a truncated header is no table")
    }
}
