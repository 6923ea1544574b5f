/* Multiboot (v1) entry of the drover test guest: header, own GDT, stack, then guest_main. */

	.set MB_MAGIC, 0x1BADB002
	.set MB_FLAGS, 0x00000003	/* page-align modules, give memory info */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .bss
	.align 16
stack_bottom:
	.skip 65536
stack_top:

	.section .rodata
	.align 8
gdt:
	.quad 0x0000000000000000
	.quad 0x00CF9A000000FFFF	/* 0x08: flat 32-bit code */
	.quad 0x00CF92000000FFFF	/* 0x10: flat 32-bit data */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.section .text
	.global _start
	.type _start, @function
_start:
	/* Multiboot leaves the GDT undefined: load ours before anything reloads a segment. */
	cli
	cld
	movl %eax, %esi			/* multiboot magic */
	movl %ebx, %edi			/* multiboot info address */
	lgdt gdt_desc
	ljmp $0x08, $1f
1:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl $stack_top, %esp
	pushl %edi
	pushl %esi
	call guest_main
2:
	cli
	hlt
	jmp 2b
	.size _start, . - _start

	/* Interrupt handlers (idle.c). Interrupts are enabled only while the guest halts. */
	.global idle_on_timer
	.type idle_on_timer, @function
idle_on_timer:
	pushl %eax
	incl idle_ticks
	movb $0x20, %al			/* end of interrupt to the master PIC */
	outb %al, $0x20
	popl %eax
	iret
	.size idle_on_timer, . - idle_on_timer

	.global idle_on_other
	.type idle_on_other, @function
idle_on_other:
	iret
	.size idle_on_other, . - idle_on_other

	.global idle_on_fault
	.type idle_on_fault, @function
idle_on_fault:
	cli
	hlt
	jmp idle_on_fault
	.size idle_on_fault, . - idle_on_fault

	.section .note.GNU-stack, "", @progbits
