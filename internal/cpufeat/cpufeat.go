// Package cpufeat tells which vector instructions the CPU and the OS
// support, for the packages that carry assembly kernels (semantic's dot
// products, semantic/use's matrix tiles). golang.org/x/sys/cpu reports
// AVX2 and FMA but not F16C, which the float16 kernels need, so the check
// is done here, once, with CPUID and XGETBV.
package cpufeat

// AVX2FMA is whether AVX2 and FMA can run: the CPU has them and the OS
// saves the YMM registers.
var AVX2FMA = avx2fma()

// F16C is whether the float16 conversions (VCVTPH2PS) can run as well.
var F16C = AVX2FMA && f16c()
