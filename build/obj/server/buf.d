build/obj/server/buf.o: server/buf.c server/buf.h server/rc.h
server/buf.h:
server/rc.h:
