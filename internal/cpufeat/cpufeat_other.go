//go:build !amd64 || purego

package cpufeat

func avx2fma() bool { return false }

func f16c() bool { return false }

const simdBuild = false
