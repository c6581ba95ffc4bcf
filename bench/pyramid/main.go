// Command pyramid builds the tile pyramid of one image the way satmark does after an
// upload, into a scratch library, and prints the wall time. Run it under /usr/bin/time -v
// to read its peak memory; bench/run.sh does, beside vips dzsave on the same file. With
// -display it only works out a raster's default display (the stretch's sample: from the
// overviews when the file has them) and prints how long that took.
//
//	go run ./bench/pyramid -in bench/out/landcover-16384.jpg -data /tmp/satmark-bench
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/satmark/satmark/imagery"
)

func main() {
	in := flag.String("in", "", "image to build the pyramid of")
	data := flag.String("data", "", "scratch library folder (emptied first)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the build (go tool pprof) to `FILE`")
	display := flag.Bool("display", false, "only work out the raster's default display (bands and stretch) and print how long it took")
	flag.Parse()
	if *in == "" || *data == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*in, *data, *cpuProfile, *display); err != nil {
		fmt.Fprintln(os.Stderr, "pyramid:", err)
		os.Exit(1)
	}
}

func run(in, data, cpuProfile string, display bool) error {
	os.RemoveAll(data)
	lib, err := imagery.Open(data, imagery.DefaultLimits)
	if err != nil {
		return err
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	u, err := lib.Receive(f)
	if err != nil {
		return err
	}
	info, err := lib.Inspect(u)
	if err != nil {
		return err
	}
	if _, err := lib.Place(u); err != nil {
		return err
	}
	if display {
		start := time.Now()
		d, err := lib.DefaultDisplay(u.SHA256, info)
		if err != nil {
			return err
		}
		if d == nil {
			return fmt.Errorf("%s is not a raster read through GDAL: it has no display to work out", in)
		}
		fmt.Printf("display of %d×%d in %.3f s: bands %v, %s\n", info.Width, info.Height, time.Since(start).Seconds(), d.Bands, d.Method)
		return nil
	}
	if cpuProfile != "" {
		p, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer p.Close()
		if err := pprof.StartCPUProfile(p); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	tiles := 0
	if err := lib.BuildPyramid(context.Background(), u.SHA256, info, func(done, total int) { tiles = total }); err != nil {
		return err
	}
	fmt.Printf("built %d tiles of %d×%d in %.2f s\n", tiles, info.Width, info.Height, time.Since(start).Seconds())
	return nil
}
