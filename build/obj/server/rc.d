build/obj/server/rc.o: server/rc.c server/rc.h
server/rc.h:
