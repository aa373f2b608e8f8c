import HeapMonitor
import HeapMonitorSamples
import CHeapMonitor
let n = buildNodeTree(count: 10)
for o in [n, n.children[0], n.children[9 % n.children.count]] as [AnyObject] {
  let p = UnsafeRawPointer(Unmanaged.passUnretained(o).toOpaque())
  let h = p.load(fromByteOffset: -8, as: UInt.self)
  print("header", h, "usable", hm_usable_size(p), "block", hm_block_size(p))
  let s = p.load(fromByteOffset: 24, as: UInt.self) & 0x0FFF_FFFF_FFFF_FFFF
  let sp = UnsafeRawPointer(bitPattern: s)!
  print(" name header", sp.load(fromByteOffset: -8, as: UInt.self), "usable", hm_usable_size(sp))
  let d = p.load(fromByteOffset: 40, as: UnsafeRawPointer.self)
  print(" dict header", d.load(fromByteOffset: -8, as: UInt.self), "usable", hm_usable_size(d))
}
