build/obj/server/embedded.o: server/embedded.c server/embedded.h
server/embedded.h:
