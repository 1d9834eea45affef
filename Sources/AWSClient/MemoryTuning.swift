/// glibc's `mallopt`, which the Glibc module does not export (it lives in
/// malloc.h). Parameters from malloc.h: M_MXFAST 1, M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

/// Process-wide allocator settings for a daemon that handles megabyte-sized
/// request and response bodies all day.
public enum MemoryTuning {
    /// glibc serves blocks above a moving threshold with mmap and returns
    /// them with munmap; bodies of 0.1 to 2 MB then cost a map, page faults
    /// and an unmap each time. A fixed threshold above them keeps them on
    /// the heap, where freed blocks are reused.
    public static func apply() {
        #if os(Linux)
        _ = glibcMallopt(-3, 32 << 20)  // M_MMAP_THRESHOLD
        _ = glibcMallopt(-1, 64 << 20)  // M_TRIM_THRESHOLD
        // No fastbins: freeing a body of 64 KB or more makes glibc
        // consolidate every fastbin chunk first, and with thousands of
        // small blocks freed per page that was a sixth of a reader's time.
        // Small blocks still go through the per-thread caches.
        _ = glibcMallopt(1, 0)  // M_MXFAST
        #endif
    }
}
