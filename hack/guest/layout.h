/* Physical memory layout of the drover test guest, shared by the guest and the host-side tests. */
#ifndef DROVER_GUEST_LAYOUT_H
#define DROVER_GUEST_LAYOUT_H

/* The kernel is linked at 1 MiB; the linker script asserts that it ends below the static region.
 * QEMU's multiboot loader puts the info block and command line just after the kernel image, so
 * the guest copies what it needs out of them before it writes any region. */
#define GUEST_KERNEL_BASE 0x00100000u

/* Static region: written once at boot, re-verified (never rewritten) on every pass, so pages that
 * are never re-dirtied are checked too. Size: cmdline static_mib (default 2, at most 4). */
#define GUEST_STATIC_BASE 0x00400000u
#define GUEST_STATIC_MAX_MIB 4u

/* Dirty region: rewritten on every pass. Size: cmdline dirty_mib, clamped so it ends
 * GUEST_TOP_MARGIN below the top of RAM (the firmware keeps its tables up there). */
#define GUEST_DIRTY_BASE 0x00800000u
#define GUEST_TOP_MARGIN 0x00100000u

#endif
