@testable import HeapMonitorRecording
import CHeapMonitor
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension TrackerSuite {
    @Suite("GOT patching")
    struct GOTPatchingTests {
        /// Relocations name symbols by index and symbols name strings by
        /// offset: both are checked against the tables' bounds.
        @Test func symbolNamesOutsideTheTablesAreRefused() {
            let strings = Array("\0swift_allocObject\0unterminated".utf8).map { CChar(bitPattern: $0) }
            var symbols = [Elf64_Sym](repeating: Elf64_Sym(), count: 3)
            symbols[0].st_name = 1
            symbols[1].st_name = 19  // "unterminated": runs to the end of the table
            symbols[2].st_name = 4096
            strings.withUnsafeBufferPointer { text in
                symbols.withUnsafeBytes { table in
                    func name(_ index: Int) -> String? {
                        hm_symbol_name(table.baseAddress, 3, text.baseAddress, text.count, index).map {
                            String(cString: $0)
                        }
                    }
                    #expect(name(0) == "swift_allocObject")
                    #expect(name(1) == nil)
                    #expect(name(2) == nil)
                    #expect(name(3) == nil)
                    #expect(name(Int.max) == nil)
                }
            }
        }

        /// A GNU hash table with two buckets: symbols below `first` are not
        /// hashed; the last chain ends at the symbol with its low bit set.
        @Test func theSymbolCountIsReadFromAGNUHashTable() {
            // nbuckets, symoffset, bloom words (64-bit), bloom shift, bloom,
            // buckets, chains for symbols 3...6.
            let table: [UInt32] = [2, 3, 1, 6, 0, 0, 3, 5, 0x10, 0x11, 0x20, 0x31]
            #expect(table.withUnsafeBufferPointer { hm_gnu_hash_symbol_count($0.baseAddress) } == 7)
            let empty: [UInt32] = [1, 4, 1, 6, 0, 0, 0]
            #expect(empty.withUnsafeBufferPointer { hm_gnu_hash_symbol_count($0.baseAddress) } == 4)
        }
    }
}
