//go:build amd64 && !purego

#include "textflag.h"

// func dotAVX2(a, b []float32) float32
// Requires len(b) >= len(a).
TEXT ·dotAVX2(SB), NOSPLIT, $0-52
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ b_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

loop32:
	CMPQ CX, $32
	JL   loop8
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  loop32

loop8:
	CMPQ CX, $8
	JL   reduce
	VMOVUPS (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  loop8

reduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0

tail:
	TESTQ CX, CX
	JE    done
	VMOVSS (SI), X1
	VFMADD231SS (DI), X1, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP  tail

done:
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func dotI8AVX2(q []float32, c []int8) float32
// Requires len(c) >= len(q).
TEXT ·dotI8AVX2(SB), NOSPLIT, $0-52
	MOVQ q_base+0(FP), SI
	MOVQ q_len+8(FP), CX
	MOVQ c_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

iloop32:
	CMPQ CX, $32
	JL   iloop8
	VPMOVSXBD (DI), Y4
	VPMOVSXBD 8(DI), Y5
	VPMOVSXBD 16(DI), Y6
	VPMOVSXBD 24(DI), Y7
	VCVTDQ2PS Y4, Y4
	VCVTDQ2PS Y5, Y5
	VCVTDQ2PS Y6, Y6
	VCVTDQ2PS Y7, Y7
	VFMADD231PS (SI), Y4, Y0
	VFMADD231PS 32(SI), Y5, Y1
	VFMADD231PS 64(SI), Y6, Y2
	VFMADD231PS 96(SI), Y7, Y3
	ADDQ $128, SI
	ADDQ $32, DI
	SUBQ $32, CX
	JMP  iloop32

iloop8:
	CMPQ CX, $8
	JL   ireduce
	VPMOVSXBD (DI), Y4
	VCVTDQ2PS Y4, Y4
	VFMADD231PS (SI), Y4, Y0
	ADDQ $32, SI
	ADDQ $8, DI
	SUBQ $8, CX
	JMP  iloop8

ireduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0

itail:
	TESTQ CX, CX
	JE    idone
	MOVBLSX (DI), AX
	VCVTSI2SSL AX, X1, X1
	VFMADD231SS (SI), X1, X0
	ADDQ $4, SI
	INCQ DI
	DECQ CX
	JMP  itail

idone:
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func dotsF32AVX2(q, data, out []float32)
// out[i] = q · data[i*len(q) : (i+1)*len(q)]. Requires len(data) >= len(out)*len(q).
TEXT ·dotsF32AVX2(SB), NOSPLIT, $0-72
	MOVQ q_base+0(FP), R8
	MOVQ q_len+8(FP), R9
	MOVQ data_base+24(FP), DI
	MOVQ out_base+48(FP), DX
	MOVQ out_len+56(FP), BX

frow:
	TESTQ BX, BX
	JE    fend
	MOVQ  R8, SI
	MOVQ  R9, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

floop32:
	CMPQ CX, $32
	JL   floop8
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  floop32

floop8:
	CMPQ CX, $8
	JL   freduce
	VMOVUPS (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  floop8

freduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0

ftail:
	TESTQ CX, CX
	JE    fstore
	VMOVSS (SI), X1
	VFMADD231SS (DI), X1, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP  ftail

fstore:
	VMOVSS X0, (DX)
	ADDQ $4, DX
	DECQ BX
	JMP  frow

fend:
	VZEROUPPER
	RET

// func dotsI8AVX2(q []float32, codes []int8, out []float32)
// out[i] = q · codes[i*len(q) : (i+1)*len(q)]. Requires len(codes) >= len(out)*len(q).
TEXT ·dotsI8AVX2(SB), NOSPLIT, $0-72
	MOVQ q_base+0(FP), R8
	MOVQ q_len+8(FP), R9
	MOVQ codes_base+24(FP), DI
	MOVQ out_base+48(FP), DX
	MOVQ out_len+56(FP), BX

irow:
	TESTQ BX, BX
	JE    iend
	MOVQ  R8, SI
	MOVQ  R9, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

irloop32:
	CMPQ CX, $32
	JL   irloop8
	VPMOVSXBD (DI), Y4
	VPMOVSXBD 8(DI), Y5
	VPMOVSXBD 16(DI), Y6
	VPMOVSXBD 24(DI), Y7
	VCVTDQ2PS Y4, Y4
	VCVTDQ2PS Y5, Y5
	VCVTDQ2PS Y6, Y6
	VCVTDQ2PS Y7, Y7
	VFMADD231PS (SI), Y4, Y0
	VFMADD231PS 32(SI), Y5, Y1
	VFMADD231PS 64(SI), Y6, Y2
	VFMADD231PS 96(SI), Y7, Y3
	ADDQ $128, SI
	ADDQ $32, DI
	SUBQ $32, CX
	JMP  irloop32

irloop8:
	CMPQ CX, $8
	JL   irreduce
	VPMOVSXBD (DI), Y4
	VCVTDQ2PS Y4, Y4
	VFMADD231PS (SI), Y4, Y0
	ADDQ $32, SI
	ADDQ $8, DI
	SUBQ $8, CX
	JMP  irloop8

irreduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0

irtail:
	TESTQ CX, CX
	JE    irstore
	MOVBLSX (DI), AX
	VCVTSI2SSL AX, X1, X1
	VFMADD231SS (SI), X1, X0
	ADDQ $4, SI
	INCQ DI
	DECQ CX
	JMP  irtail

irstore:
	VMOVSS X0, (DX)
	ADDQ $4, DX
	DECQ BX
	JMP  irow

iend:
	VZEROUPPER
	RET

// func hammingsPOPCNT(q *sketch, sk []uint64, out []int32)
// out[i] = the Hamming distance between the 4 words at q and sk[4i:4i+4].
// Requires len(sk) >= 4*len(out) and POPCNT (every AVX2 CPU has it).
TEXT ·hammingsPOPCNT(SB), NOSPLIT, $0-56
	MOVQ q+0(FP), AX
	MOVQ 0(AX), R8
	MOVQ 8(AX), R9
	MOVQ 16(AX), R10
	MOVQ 24(AX), R11
	MOVQ sk_base+8(FP), SI
	MOVQ out_base+32(FP), DI
	MOVQ out_len+40(FP), CX

hloop:
	TESTQ CX, CX
	JE    hend
	MOVQ  (SI), AX
	XORQ  R8, AX
	POPCNTQ AX, AX
	MOVQ  8(SI), BX
	XORQ  R9, BX
	POPCNTQ BX, BX
	MOVQ  16(SI), DX
	XORQ  R10, DX
	POPCNTQ DX, DX
	MOVQ  24(SI), R12
	XORQ  R11, R12
	POPCNTQ R12, R12
	ADDQ  BX, AX
	ADDQ  R12, DX
	ADDQ  DX, AX
	MOVL  AX, (DI)
	ADDQ  $32, SI
	ADDQ  $4, DI
	DECQ  CX
	JMP   hloop

hend:
	RET
