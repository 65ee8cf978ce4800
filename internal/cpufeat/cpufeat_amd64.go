//go:build amd64 && !purego

package cpufeat

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

// Feature bits of CPUID leaf 1 (ECX) and leaf 7 (EBX).
const (
	leaf1FMA     = 1 << 12
	leaf1OSXSAVE = 1 << 27
	leaf1AVX     = 1 << 28
	leaf1F16C    = 1 << 29
	leaf7AVX2    = 1 << 5
)

func avx2fma() bool {
	if maxID, _, _, _ := cpuid(0, 0); maxID < 7 {
		return false
	}
	const need = leaf1FMA | leaf1OSXSAVE | leaf1AVX
	if _, _, ecx1, _ := cpuid(1, 0); ecx1&need != need {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // the OS saves XMM and YMM state
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&leaf7AVX2 != 0
}

func f16c() bool {
	_, _, ecx1, _ := cpuid(1, 0)
	return ecx1&leaf1F16C != 0
}

// simdBuild is whether this build checks the CPU at all.
const simdBuild = true
