top: jmp target=top
