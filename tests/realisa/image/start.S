// Start code, exception vectors, fault probes and the guest entry of the
// bare-metal test image (docs/REAL-ISA.md).
//
// Exception frame (struct TrapFrame in trap.hpp): x0..x30 at 8*n, ELR at
// 248, SPSR at 256, ESR at 264; 272 bytes.

        .equ STACK_SIZE, 0x40000
        .equ MAX_PES, 4
        .equ FRAME_SIZE, 272

// ---- entry ----------------------------------------------------------------

        .section .text.boot, "ax"
        .global realisa_start
realisa_start:
        // Only PE 0 runs from here (QEMU holds the others off until PSCI
        // CPU_ON starts them at realisa_secondary_entry).
        adrp    x0, realisa_stacks
        add     x0, x0, :lo12:realisa_stacks
        add     x0, x0, #STACK_SIZE
        mov     sp, x0
        adrp    x0, __bss_start
        add     x0, x0, :lo12:__bss_start
        adrp    x1, __bss_end
        add     x1, x1, :lo12:__bss_end
1:      cmp     x0, x1
        b.hs    2f
        str     xzr, [x0], #8
        b       1b
2:      bl      install_vectors
        bl      realisa_main
3:      wfe
        b       3b

// x0: the PE index (the PSCI CPU_ON context).
        .global realisa_secondary_entry
realisa_secondary_entry:
        mov     x19, x0
        adrp    x1, realisa_stacks
        add     x1, x1, :lo12:realisa_stacks
        mov     x2, #STACK_SIZE
        madd    x1, x0, x2, x1
        add     x1, x1, x2
        mov     sp, x1
        bl      install_vectors
        mov     x0, x19
        bl      realisa_secondary_main
4:      wfe
        b       4b

install_vectors:
        mrs     x0, CurrentEL
        cmp     x0, #(2 << 2)
        b.ne    5f
        adrp    x0, realisa_vectors_el2
        add     x0, x0, :lo12:realisa_vectors_el2
        msr     vbar_el2, x0
        isb
        ret
5:      adrp    x0, realisa_vectors_el1
        add     x0, x0, :lo12:realisa_vectors_el1
        msr     vbar_el1, x0
        isb
        ret

// ---- register blocks ---------------------------------------------------------

// x2..x30 to or from a TrapFrame at \base (x0 and x1 are the caller's):
// X2_X30 stp, str, base stores them, X2_X30 ldp, ldr, base loads them.
        .macro X2_X30 pair, single, base
        \pair   x2, x3, [\base, #16]
        \pair   x4, x5, [\base, #32]
        \pair   x6, x7, [\base, #48]
        \pair   x8, x9, [\base, #64]
        \pair   x10, x11, [\base, #80]
        \pair   x12, x13, [\base, #96]
        \pair   x14, x15, [\base, #112]
        \pair   x16, x17, [\base, #128]
        \pair   x18, x19, [\base, #144]
        \pair   x20, x21, [\base, #160]
        \pair   x22, x23, [\base, #176]
        \pair   x24, x25, [\base, #192]
        \pair   x26, x27, [\base, #208]
        \pair   x28, x29, [\base, #224]
        \single x30, [\base, #240]
        .endm

// The host's callee-saved x19..x30 in host_context at \base (its stack
// pointer follows at +96).
        .macro CALLEE_SAVED pair, base
        \pair   x19, x20, [\base, #0]
        \pair   x21, x22, [\base, #16]
        \pair   x23, x24, [\base, #32]
        \pair   x25, x26, [\base, #48]
        \pair   x27, x28, [\base, #64]
        \pair   x29, x30, [\base, #80]
        .endm

// ---- vectors ----------------------------------------------------------------

// Saves the frame, calls realisa_trap(frame, vector), restores, returns
// to the (possibly changed) ELR.
        .macro TRAP_ENTRY el, vector
        sub     sp, sp, #FRAME_SIZE
        stp     x0, x1, [sp, #0]
        X2_X30 stp, str, sp
        mrs     x0, elr_\el
        mrs     x1, spsr_\el
        stp     x0, x1, [sp, #248]
        mrs     x0, esr_\el
        str     x0, [sp, #264]
        mov     x0, sp
        mov     x1, #\vector
        bl      realisa_trap
        ldp     x0, x1, [sp, #248]
        msr     elr_\el, x0
        msr     spsr_\el, x1
        ldp     x0, x1, [sp, #0]
        X2_X30 ldp, ldr, sp
        add     sp, sp, #FRAME_SIZE
        eret
        .endm

        .macro VECTOR_SLOT el, vector
        .balign 0x80
        b       trap_\el\()_\vector
        .endm

        .macro VECTOR_TABLE el
        .section .vectors, "ax"
        .balign 2048
        .global realisa_vectors_\el
realisa_vectors_\el:
        .irp v, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
        VECTOR_SLOT \el, \v
        .endr
        .text
        .irp v, 0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15
trap_\el\()_\v:
        TRAP_ENTRY \el, \v
        .endr
        .endm

        VECTOR_TABLE el1
        VECTOR_TABLE el2

        .text
// Vector 8 (lower EL, AArch64, synchronous) of EL1 is never expected: EL0
// is not used. It goes to realisa_trap like the others.
trap_el1_8:
        TRAP_ENTRY el1, 8

// Vector 8 of EL2: the guest left (HVC, or a stage-2 abort). Saves the
// guest's registers into the frame realisa_enter_guest was given, restores
// the host's callee-saved registers and stack, and returns from
// realisa_enter_guest with ESR_EL2.
trap_el2_8:
        stp     x0, x1, [sp, #-16]!
        adrp    x0, guest_frame
        ldr     x0, [x0, :lo12:guest_frame]
        X2_X30 stp, str, x0
        ldp     x2, x3, [sp], #16
        stp     x2, x3, [x0, #0]
        mrs     x1, elr_el2
        mrs     x2, spsr_el2
        stp     x1, x2, [x0, #248]
        mrs     x1, esr_el2
        str     x1, [x0, #264]
        adrp    x9, host_context
        add     x9, x9, :lo12:host_context
        CALLEE_SAVED ldp, x9
        ldr     x10, [x9, #96]
        mov     sp, x10
        mov     x0, x1
        ret

// uint64_t realisa_enter_guest(TrapFrame* guest): runs the guest at EL1
// from guest->elr with guest->spsr and its registers; returns ESR_EL2 of
// the exception that ended the run, with the guest's state saved in
// *guest.
        .global realisa_enter_guest
realisa_enter_guest:
        adrp    x9, host_context
        add     x9, x9, :lo12:host_context
        CALLEE_SAVED stp, x9
        mov     x10, sp
        str     x10, [x9, #96]
        adrp    x9, guest_frame
        str     x0, [x9, :lo12:guest_frame]
        ldp     x1, x2, [x0, #248]
        msr     elr_el2, x1
        msr     spsr_el2, x2
        X2_X30 ldp, ldr, x0
        ldp     x0, x1, [x0, #0]
        eret

// ---- probes -----------------------------------------------------------------

// ProbeResult realisa_probe_read(uint64_t va): x0 = the word at va, x1 = 0;
// on a fault realisa_trap sets x1 = 1 and x0 = ESR and resumes after the
// load.
        .global realisa_probe_read, realisa_probe_read_insn
realisa_probe_read:
        mov     x2, x0
        mov     x1, #0
realisa_probe_read_insn:
        ldr     x0, [x2]
        ret

// ProbeResult realisa_probe_write(uint64_t va, uint64_t value): x1 = 0 when
// the store was done; on a fault x1 = 1 and x0 = ESR.
        .global realisa_probe_write, realisa_probe_write_insn
realisa_probe_write:
        mov     x2, x0
        mov     x0, x1
        mov     x1, #0
realisa_probe_write_insn:
        str     x0, [x2]
        ret

// ProbeResult realisa_probe_exec(uint64_t va): calls the code at va (which
// returns a value in x0 and leaves x1 alone). On an instruction abort at
// the target, realisa_trap resumes at the return address with x1 = 1.
        .global realisa_probe_exec, realisa_probe_exec_return
realisa_probe_exec:
        stp     x29, x30, [sp, #-16]!
        mov     x1, #0
        blr     x0
realisa_probe_exec_return:
        ldp     x29, x30, [sp], #16
        ret

// ---- guest code (EL1, stage 1 off: addresses are IPAs) ------------------------

// x1: the IPA to read; leaves with HVC #0 and the word in x0, or with a
// stage-2 data abort.
        .global realisa_guest_read
realisa_guest_read:
        ldr     x0, [x1]
        hvc     #0

// x1: the IPA, x2: the value to store; leaves with HVC #0.
        .global realisa_guest_write
realisa_guest_write:
        str     x2, [x1]
        hvc     #0

// ---- data -----------------------------------------------------------------

        .bss
        .balign 16
        .global realisa_stacks
realisa_stacks:
        .space  STACK_SIZE * MAX_PES
        .balign 8
guest_frame:
        .space  8
host_context:
        .space  104
