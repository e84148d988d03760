// Command pagefault measures what the first write to fresh anonymous
// memory costs, a page at a time, as a program filling new buffers pays
// it: with 4 KiB pages, with transparent huge pages (MADV_HUGEPAGE, what
// glibc.malloc.hugetlb=1 asks for), and either populated up front
// (MAP_POPULATE, MADV_POPULATE_WRITE). See bench/README.md, "Fresh memory".
//
//	go run ./bench/pagefault [MiB]
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

const madvPopulateWrite = 23 // MADV_POPULATE_WRITE, Linux 5.14

func main() {
	mib := 256
	if len(os.Args) > 1 {
		var err error
		if mib, err = strconv.Atoi(os.Args[1]); err != nil || mib <= 0 {
			fmt.Fprintln(os.Stderr, "usage: pagefault [MiB]")
			os.Exit(2)
		}
	}
	fmt.Printf("%-26s %12s %12s %12s\n", "mode", "setup", "first touch", "ms per MiB")
	for _, mode := range []string{"4k", "4k+MAP_POPULATE", "4k+POPULATE_WRITE", "huge", "huge+POPULATE_WRITE"} {
		if err := measure(mode, mib<<20); err != nil {
			fmt.Fprintln(os.Stderr, mode+":", err)
			os.Exit(1)
		}
	}
}

func measure(mode string, n int) error {
	t0 := time.Now()
	flags := unix.MAP_PRIVATE | unix.MAP_ANON
	if mode == "4k+MAP_POPULATE" {
		flags |= unix.MAP_POPULATE
	}
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, flags)
	if err != nil {
		return err
	}
	defer unix.Munmap(b)
	if mode == "huge" || mode == "huge+POPULATE_WRITE" {
		if err := unix.Madvise(b, unix.MADV_HUGEPAGE); err != nil {
			return err
		}
	}
	if mode == "4k+POPULATE_WRITE" || mode == "huge+POPULATE_WRITE" {
		if err := unix.Madvise(b, madvPopulateWrite); err != nil {
			return err
		}
	}
	t1 := time.Now()
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	t2 := time.Now()
	perMiB := float64(t2.Sub(t0).Microseconds()) / 1000 / float64(n>>20)
	fmt.Printf("%-26s %12v %12v %12.3f\n", mode, t1.Sub(t0).Round(time.Microsecond), t2.Sub(t1).Round(time.Microsecond), perMiB)
	return nil
}
