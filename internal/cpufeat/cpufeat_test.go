package cpufeat

import (
	"os"
	"strings"
	"testing"
)

// The features agree with what the kernel read from the CPU, where
// /proc/cpuinfo says (Linux).
func TestAgreesWithProcCPUInfo(t *testing.T) {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo:", err)
	}
	flags := map[string]bool{}
	for line := range strings.SplitSeq(string(info), "\n") {
		if name, list, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) == "flags" {
			for _, f := range strings.Fields(list) {
				flags[f] = true
			}
			break
		}
	}
	if len(flags) == 0 {
		t.Skip("no flags line in /proc/cpuinfo (not x86?)")
	}
	if !simdBuild {
		if AVX2FMA || F16C {
			t.Fatalf("AVX2FMA %v, F16C %v in a build without the assembly", AVX2FMA, F16C)
		}
		return
	}
	if want := flags["avx2"] && flags["fma"]; AVX2FMA != want {
		t.Errorf("AVX2FMA = %v, /proc/cpuinfo has avx2 %v fma %v", AVX2FMA, flags["avx2"], flags["fma"])
	}
	if want := flags["avx2"] && flags["fma"] && flags["f16c"]; F16C != want {
		t.Errorf("F16C = %v, /proc/cpuinfo has f16c %v", F16C, flags["f16c"])
	}
}
