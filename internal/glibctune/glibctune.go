// Package glibctune starts the augur command again with glibc's allocator
// tuned for loading large models.
//
// Loading a 100 MB network makes ONNX Runtime allocate and fill several
// hundred megabytes of fresh memory (the parsed graph, the initializers,
// the fused and prepacked weights, the optimized graph it saves). On the
// virtual machines augur is measured on, the first touch of fresh memory
// in 4 KiB pages costs about 4 ms per MB, in transparent huge pages about
// half that or less (bench/pagefault). glibc's malloc asks for huge pages only when its tunable
// glibc.malloc.hugetlb is set, and tunables are read from the environment
// when a process starts, so the command sets them and executes itself
// once more before doing anything else (bench/README.md, "Fresh memory",
// has the numbers: the first CREATE of a resnet50 .pth takes about 2.2 s
// instead of 3.7 s with glibc's defaults).
//
// The settings make glibc behave from the start as it does once warmed
// up (its dynamic mmap threshold grows to 32 MiB and its trim threshold
// to twice that after the first large free) and let the heap grow in
// 64 MiB steps backed by huge pages. A GLIBC_TUNABLES variable already
// in the environment, even an empty one, is left as it is: that is also
// how a user turns this off (GLIBC_TUNABLES= augur ...). Elsewhere than
// on Linux the package does nothing.
package glibctune

// Tunables is the value of GLIBC_TUNABLES the command runs with.
const Tunables = "glibc.malloc.hugetlb=1:" +
	"glibc.malloc.mmap_threshold=33554432:" +
	"glibc.malloc.trim_threshold=67108864:" +
	"glibc.malloc.top_pad=67108864"
