nop
sem.set sem=0
sem.wait sem=3 timeout=20
halt
