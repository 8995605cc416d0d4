li rd=r1 imm=4
li rd=r2 imm=0
li rd=r3 imm=0x10000
stream sid=0 rd=r2 stride=128
stream sid=1 rd=r3 stride=64
li rd=r0 imm=77
body: dma.ld dram=[r2+0x0] sram=[r0+0x0] rows=1 bytes=64
dma.st dram=[r3+0x0] sram=[r0+0x0] rows=1 bytes=64
loop rd=r1 off=body streams=3
halt
