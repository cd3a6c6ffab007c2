build/obj/server/form.o: server/form.c server/form.h server/rc.h
server/form.h:
server/rc.h:
