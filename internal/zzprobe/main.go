package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"

	"afimport/readers"
)

func hwm() string {
	b, _ := os.ReadFile("/proc/self/status")
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM") || strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "RssAnon") || strings.HasPrefix(l, "RssFile") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.Join(out, "; ")
}

func main() {
	fmt.Println("start:", hwm())
	r, err := readers.Open(os.Args[1], readers.Options{})
	if err != nil {
		panic(err)
	}
	var ms runtime.MemStats
	var maxHeap uint64
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		n++
		if n%5000 == 0 {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > maxHeap {
				maxHeap = ms.HeapInuse
				if len(os.Args) > 2 {
					f, _ := os.Create(os.Args[2])
					pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
		}
	}
	fmt.Println(n, "rows; max HeapInuse", maxHeap>>20, "MiB;", hwm())
}
