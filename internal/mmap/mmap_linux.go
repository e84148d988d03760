package mmap

import "syscall"

// mapPopulate asks Linux to map every page at once, which is far cheaper
// than one fault per page.
const mapPopulate = syscall.MAP_POPULATE
